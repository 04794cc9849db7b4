"""Settings read from the environment: the development address mail links start with."""

from __future__ import annotations

import pytest

from registry.settings import Settings


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"PORT": "8123"}, "http://127.0.0.1:8123"),
        ({"HOST": "localhost", "PORT": "9000"}, "http://localhost:9000"),
        # Listening everywhere: the link names this machine, reachable from itself.
        ({"HOST": "0.0.0.0", "PORT": "8080"}, "http://127.0.0.1:8080"),
        ({"HOST": "::", "PORT": "8080"}, "http://127.0.0.1:8080"),
        ({"HOST": "::1", "PORT": "8080"}, "http://[::1]:8080"),
        # Set explicitly, it wins (production: the address users reach, behind the proxy).
        (
            {"PORT": "8123", "PUBLIC_URL": "https://registry.example.vn/"},
            "https://registry.example.vn",
        ),
    ],
)
def test_mail_links_follow_the_port_the_server_listens_on(
    environ: dict[str, str], expected: str
) -> None:
    assert Settings.from_env(environ).public_url == expected


def test_a_kept_file_made_by_many_threads_at_once_is_one_file_for_all(tmp_path):
    """The first document issues of a fresh installation make its test CA and fund keys in
    several worker threads at once: all must end up with the same key, the one on disk."""
    import threading

    from registry.settings import kept_file

    path = tmp_path / "keys" / "test-ca.pem"
    start = threading.Barrier(8)
    got: list[bytes] = []

    def make_one(index: int) -> None:
        def make() -> bytes:
            return f"key {index} ".encode() * 50_000

        start.wait()
        got.append(kept_file(path, make, folder_mode=0o700))

    threads = [threading.Thread(target=make_one, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(got)) == 1
    assert got[0] == path.read_bytes()
    assert sorted(p.name for p in path.parent.iterdir()) == ["test-ca.pem"]
