"""User-data service (:8111): users' inboxes of SMS messages."""
