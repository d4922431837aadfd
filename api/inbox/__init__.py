"""Inbox service (:8222): receives messages, stores them via user-data and pushes their v2 features."""
