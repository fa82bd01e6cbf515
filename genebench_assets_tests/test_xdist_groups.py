"""The xdist groups and their order (conftest.py): the e2e files on the session webserver share one group,
the e2e files with their own server (or none) are groups of their own; under `--dist loadgroup` the long
groups are handed out first, longest first, with the order inside a group kept."""

from __future__ import annotations

from dataclasses import dataclass

from genebench_assets_tests.conftest import LONG_GROUPS, LongGroupsFirst, xdist_group

E2E = "genebench_assets_tests/e2e/"


@dataclass
class Item:
    nodeid: str
    slow: bool = False

    def get_closest_marker(self, name):
        return object() if name == "slow" and self.slow else None


def test_the_session_server_files_share_one_group_the_others_are_their_own():
    assert xdist_group(Item(E2E + "test_webserver_graphql.py::test_a")) == "e2e"
    assert xdist_group(Item(E2E + "test_browser_ui.py::test_b@e2e")) == "e2e"  # xdist's suffix is ignored
    for own in ("test_materialize_all.py", "test_progress_wait.py"):
        assert xdist_group(Item(E2E + own + "::test_c")) == E2E + own
    assert xdist_group(Item("genebench_assets_tests/defs/test_x.py::test_d[p]")) == "genebench_assets_tests/defs/test_x.py"


def test_long_groups_first_then_slow_then_by_number_of_tests_order_within_a_group_kept():
    longest, second = sorted((g for g in LONG_GROUPS if g != "e2e"), key=LONG_GROUPS.get, reverse=True)[:2]
    items = [Item("genebench_assets_tests/science/test_many.py::t1"),
             Item("genebench_assets_tests/science/test_many.py::t2"),
             Item("genebench_assets_tests/defs/test_slow_one.py::t", slow=True),
             Item(f"{second}::s1"),
             Item(f"{longest}::g1"),
             Item(f"{longest}::g2")]
    LongGroupsFirst().pytest_collection_modifyitems(items)
    assert [i.nodeid for i in items] == [f"{longest}::g1", f"{longest}::g2", f"{second}::s1",
                                         "genebench_assets_tests/defs/test_slow_one.py::t",
                                         "genebench_assets_tests/science/test_many.py::t1",
                                         "genebench_assets_tests/science/test_many.py::t2"]
