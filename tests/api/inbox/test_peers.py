"""BatchPeers over real abstract Unix sockets: a follower's batch runs in the leader's, and whatever the leader
does not answer (gone, too slow, failed, another user) comes back for the follower to run itself."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest
import uvloop

from api.inbox import peers as peers_module
from api.inbox.peers import Answer, BatchPeers, group_name
from api.inbox.schemas import InboxSms, Incoming

Serve = Callable[[list[Incoming]], Awaitable[list[Answer | None]]]


def _incoming(text: str, key: str | None = None) -> Incoming:
    return Incoming(InboxSms(recipient_id="fiona", sender_id="+4412345", sms_text=text), key)


class Leader:
    """A serve function that records the batches it got and answers each item as pushed."""

    def __init__(self, delay: float = 0.0, answer: bool = True) -> None:
        self.batches: list[list[Incoming]] = []
        self.delay = delay
        self.answer = answer

    async def __call__(self, batch: list[Incoming]) -> list[Answer | None]:
        self.batches.append(batch)
        await asyncio.sleep(self.delay)
        return [["ok", str(item.sms_id), True, "served by the leader"] if self.answer else None for item in batch]


class Group:
    """BatchPeers of one group of this test's own, closed at the end."""

    def __init__(self) -> None:
        self.name = group_name("test", uuid.uuid4().hex)
        self.made: list[BatchPeers] = []

    def __call__(self, serve: Serve, timeout_seconds: float = 2.0) -> BatchPeers:
        self.made.append(BatchPeers(self.name, serve, timeout_seconds=timeout_seconds))
        return self.made[-1]

    async def close(self) -> None:
        for peers in self.made:
            await peers.close()


Scenario = Callable[[Group], Awaitable[None]]
# The services run on uvloop (uvicorn's choice), which takes abstract addresses otherwise than asyncio does.
RUNNERS = {"asyncio": asyncio.run, "uvloop": uvloop.run}


@pytest.fixture(params=sorted(RUNNERS))
def run_in_group(request: pytest.FixtureRequest) -> Callable[[Scenario], None]:
    def run(scenario: Scenario) -> None:
        async def in_group() -> None:
            group = Group()
            try:
                await scenario(group)
            finally:
                await group.close()

        RUNNERS[request.param](in_group())

    return run


def test_first_worker_leads_and_a_follower_s_batch_runs_there(run_in_group: Callable[[Scenario], None]) -> None:
    async def scenario(make_peers: Group) -> None:
        leader_serve, follower_serve = Leader(), Leader()
        leader, follower = make_peers(leader_serve), make_peers(follower_serve)
        assert await leader.forward([_incoming("first")]) == [None]  # no one led: it runs its own, and now leads
        assert leader.leading
        batch = [_incoming("hello", key="key-1"), _incoming("world")]
        answers = await follower.forward(batch)
        assert answers == [["ok", str(item.sms_id), True, "served by the leader"] for item in batch]
        assert not follower.leading and follower_serve.batches == []
        (received,) = leader_serve.batches
        assert [(i.sms_id, i.sms, i.idempotency_key) for i in received] == [(i.sms_id, i.sms, i.idempotency_key)
                                                                            for i in batch]

    run_in_group(scenario)


def test_concurrent_calls_on_one_link_get_their_own_answers(run_in_group: Callable[[Scenario], None]) -> None:
    async def scenario(make_peers: Group) -> None:
        leader_serve = Leader(delay=0.02)
        leader, follower = make_peers(leader_serve), make_peers(Leader())
        await leader.forward([_incoming("first")])
        batches = [[_incoming(f"text {n} {m}") for m in range(n + 1)] for n in range(8)]
        results = await asyncio.gather(*(follower.forward(batch) for batch in batches))
        for batch, answers in zip(batches, results, strict=True):
            assert [answer[1] for answer in answers if answer] == [str(item.sms_id) for item in batch]

    run_in_group(scenario)


def test_when_the_leader_goes_the_follower_runs_its_batch_then_leads(run_in_group: Callable[[Scenario], None]) -> None:
    async def scenario(make_peers: Group) -> None:
        first, second, third = make_peers(Leader()), make_peers(Leader()), make_peers(Leader())
        await first.forward([_incoming("first")])
        assert (await second.forward([_incoming("via first")]))[0] is not None
        await first.close()
        await asyncio.sleep(0.01)
        assert await second.forward([_incoming("first is gone")]) == [None]
        assert await second.forward([_incoming("no leader")]) == [None]
        assert second.leading
        assert (await third.forward([_incoming("via second")]))[0] is not None

    run_in_group(scenario)


def test_a_leader_too_slow_leaves_the_batch_to_the_follower(run_in_group: Callable[[Scenario], None]) -> None:
    async def scenario(make_peers: Group) -> None:
        leader, follower = make_peers(Leader(delay=1.0)), make_peers(Leader(), timeout_seconds=0.1)
        await leader.forward([_incoming("first")])
        assert await follower.forward([_incoming("slow")]) == [None]

    run_in_group(scenario)


def test_an_item_the_leader_did_not_run_comes_back_unanswered(run_in_group: Callable[[Scenario], None]) -> None:
    async def scenario(make_peers: Group) -> None:
        leader, follower = make_peers(Leader(answer=False)), make_peers(Leader())
        await leader.forward([_incoming("first")])
        assert await follower.forward([_incoming("a"), _incoming("b")]) == [None, None]

    run_in_group(scenario)


def test_the_leader_answers_only_processes_of_its_own_user(
    run_in_group: Callable[[Scenario], None], monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def scenario(make_peers: Group) -> None:
        leader_serve = Leader()
        leader, follower = make_peers(leader_serve), make_peers(Leader())
        await leader.forward([_incoming("first")])
        monkeypatch.setattr(peers_module.os, "getuid", lambda: 4242)  # the follower's uid is now not the leader's
        assert await follower.forward([_incoming("from another user")]) == [None]
        assert leader_serve.batches == []

    run_in_group(scenario)


def test_group_names_differ_by_upstreams_and_key() -> None:
    names = {group_name("http://a", "key"), group_name("http://b", "key"), group_name("http://a", "other")}
    assert len(names) == 3
    assert all(len(name) < 100 for name in names)  # an abstract socket name holds at most 107 bytes


def test_closing_a_follower_returns_its_waiting_batches_at_once(run_in_group: Callable[[Scenario], None]) -> None:
    async def scenario(make_peers: Group) -> None:
        leader, follower = make_peers(Leader(delay=5.0)), make_peers(Leader(), timeout_seconds=10.0)
        await leader.forward([_incoming("first")])
        waiting = asyncio.create_task(follower.forward([_incoming("waiting")]))
        await asyncio.sleep(0.05)
        await follower.close()
        assert await asyncio.wait_for(waiting, 1.0) == [None]

    run_in_group(scenario)
