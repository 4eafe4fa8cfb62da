"""A storage password reaches no file, no printed line and no other process's command line, whichever way it is
given: in the URL's user part, as a query parameter, through $VAE_STORAGE, $PGPASSWORD or ~/.pgpass."""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from conftest import TINY_MODEL
from postgres_server import PASSWORD
from test_space import tune

from vae_cli import redaction
from vae_cli.cli.main import main
from vae_cli.redaction import command, hide, secrets_in

SECRET = "S3cretPW_xyz"


@pytest.mark.parametrize(
    "url, shown",
    [
        (f"postgresql://vae:{SECRET}@127.0.0.1:55432/db", "postgresql://vae:***@127.0.0.1:55432/db"),
        (f"postgresql://vae:{SECRET}@127.0.0.1:notaport/db", "postgresql://vae:***@127.0.0.1:notaport/db"),
        (f"postgresql://vae:{SECRET}@[::1/db", "postgresql://vae:***@[::1/db"),
        (f"postgresql+psycopg2://:{SECRET}@h/db", "postgresql+psycopg2://:***@h/db"),
        (f"postgresql://vae:a@{SECRET}/x:y@h/db", "postgresql://vae:***@h/db"),  # '@' and '/' not encoded
        (f"postgresql://h/db?user=vae&password={SECRET}", "postgresql://h/db?user=vae&password=***"),
        (f"postgresql://h/db?sslpassword={SECRET}&user=vae", "postgresql://h/db?sslpassword=***&user=vae"),
        (f"postgresql://h/db?PASSWORD={SECRET}", "postgresql://h/db?PASSWORD=***"),
        (f"host=h password='{SECRET} x' user=vae", "host=h password=*** user=vae"),
        (f"postgresql://user@corp:{SECRET}@h:5/db", "postgresql://user@corp:***@h:5/db"),  # '@' in the user name
        (f"postgresql://vae:ab {SECRET}@h/db", "postgresql://vae:***@h/db"),  # a blank in the password
        (f"postgresql://vae:ab\t{SECRET}@h/db", "postgresql://vae:***@h/db"),
        (f"postgresql://vae:ab\n{SECRET}@h/db", "postgresql://vae:***@h/db"),
        (f"postgresql://vae@h/db?password=ab#{SECRET}", "postgresql://vae@h/db?password=***"),  # '#' in the value
        (f"postgresql://vae@h/db?password=ab;{SECRET}&x=1", "postgresql://vae@h/db?password=***&x=1"),
        ("postgresql://vae@h:5432/db", "postgresql://vae@h:5432/db"),
        ("sqlite:///out/s/study.db", "sqlite:///out/s/study.db"),
        ("postgresql://vae@h/db", "postgresql://vae@h/db"),
    ],
)
def test_hide_masks_every_url_form_parsed_or_not(url, shown):
    assert hide(url) == shown
    assert SECRET not in hide(f"cannot open {url}: {url}")


def test_the_passwords_a_url_holds_are_found_decoded_too():
    assert sorted(secrets_in("postgresql://vae:p%40ss@h/db")) == ["p%40ss", "p@ss"]
    assert hide("the driver said: password p@ss refused", secrets_in("postgresql://vae:p%40ss@h/db")) == (
        "the driver said: password *** refused"
    )
    assert command(["tune", "--storage", f"postgresql://vae:{SECRET}@h/db", f"--storage=x://u:{SECRET}@h"]) == [
        "tune",
        "--storage",
        "postgresql://vae:***@h/db",
        "--storage=x://u:***@h",
    ]


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://vae:{SECRET}@127.0.0.1:notaport/db",
        f"postgresql://vae:{SECRET}@[::1/db",
        f"postgresql://127.0.0.1:9/db?user=vae&password={SECRET}",
        f"postgresql://vae:{SECRET}@127.0.0.1:9/db",
    ],
)
def test_a_storage_that_cannot_be_opened_is_one_line_without_the_password(capsys, tmp_path, url):
    pytest.importorskip("psycopg2", reason="psycopg2 is not installed: pip install 'vae-cli[postgres]'")
    code, out, err = tune(capsys, tmp_path, "--show", "--storage", url)
    assert code == 1 and len(err.strip().splitlines()) == 1 and "cannot open the study storage" in err, err
    assert SECRET not in out + err


def test_the_storage_in_use_is_hidden_however_a_message_quotes_it():
    from vae_cli.tuning.study import given_storage

    given_storage(f"postgresql://vae@h/db?password=Quoted{SECRET}")
    assert hide(f"the server said: password 'Quoted{SECRET}' refused") == "the server said: password '***' refused"


def test_vae_storage_is_the_storage_when_the_flag_is_absent(capsys, tmp_path, monkeypatch):
    pytest.importorskip("psycopg2", reason="psycopg2 is not installed: pip install 'vae-cli[postgres]'")
    monkeypatch.setenv("VAE_STORAGE", f"postgresql://vae:{SECRET}@127.0.0.1:9/fromenv")
    code, _, err = tune(capsys, tmp_path, "--show")
    assert code == 1 and "postgresql://vae:***@127.0.0.1:9/fromenv" in err and SECRET not in err, err


# --------------------------------------------------------------- a real study on a password-protected server


def _tune(*args, env=None):
    base = [sys.executable, "-m", "vae_cli", "tune", *args]
    return subprocess.Popen(base, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _command_lines_while(proc):
    """Every command line on the machine, read again and again while ``proc`` runs."""
    seen = set()

    def watch():
        while proc.poll() is None:
            for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
                try:
                    seen.add(cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace"))
                except OSError:  # the process ended meanwhile
                    pass
            time.sleep(0.05)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return seen, thread


def _everything_written(folder):
    return [(p, p.read_bytes()) for p in Path(folder).rglob("*") if p.is_file() and not p.is_symlink()]


@pytest.mark.slow
def test_no_password_in_any_file_line_or_command_line(postgres, data_dir, tmp_path, capsys, monkeypatch):
    parts = urlsplit(postgres)
    bare = f"postgresql://postgres@{parts.hostname}:{parts.port}/postgres"  # the password given another way
    query = f"postgresql://{parts.hostname}:{parts.port}/postgres?user=postgres&password={PASSWORD}"
    space = tmp_path / "space.yaml"
    space.write_text(
        yaml.safe_dump({"pruner": "none", "space": {"train.learning_rate": {"log_uniform": [1e-3, 1e-2]}}})
    )
    out_dir = tmp_path / "out"
    common = ["--space", str(space), "--data-dir", str(data_dir), "--set", f"output.dir={out_dir}"]
    for item in [*TINY_MODEL, "train.epochs=1", "train.batch_size=64"]:
        common += ["--set", item]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    printed = []

    # Two workers with the password in the URL: the workers' command lines are watched throughout.
    search = _tune(*common, "--trials", "2", "--workers", "2", "--study", "userinfo", "--storage", postgres, env=env)
    seen, watcher = _command_lines_while(search)
    printed += search.communicate(timeout=600)
    watcher.join()
    assert search.returncode == 0, printed
    workers = [line for line in seen if "--worker-threads" in line]
    assert workers, "the watch saw the workers' command lines"
    assert not [line for line in seen if PASSWORD in line and "pytest" not in line], "a password in ps"

    # In this process from here on, each call as a fresh process would start: nothing remembered from the last.
    def in_process(*args, **environment):
        monkeypatch.setattr(redaction, "_remembered", set())
        for name in ("PGPASSWORD", "VAE_STORAGE"):
            monkeypatch.delenv(name, raising=False)
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        code = main(["tune", *args])
        printed.extend(capsys.readouterr())
        return code

    # One worker, the password as a query parameter: the command as typed is recorded in run.json.
    assert in_process(*common, "--trials", "1", "--study", "query", "--storage", query) == 0, printed
    (manifest,) = [json.loads(p.read_text()) for p in (out_dir / "query").glob("*/run.json")]
    assert "password=***" in manifest["command"] and "password=***" in manifest["tuning"]["storage"]

    # Every other way in, each read back with --show and --show --json.
    home = tmp_path / "home"
    home.mkdir()
    (home / ".pgpass").write_text(f"{parts.hostname}:{parts.port}:*:postgres:{PASSWORD}\n")
    (home / ".pgpass").chmod(0o600)
    ways = {
        "userinfo": (["--storage", postgres], {}),
        "query": (["--storage", query], {}),
        "PGPASSWORD": (["--storage", bare], {"PGPASSWORD": PASSWORD}),
        "pgpass": (["--storage", bare], {"HOME": str(home)}),
        "VAE_STORAGE": ([], {"VAE_STORAGE": postgres}),
    }
    for i, (way, (flags, extra)) in enumerate(ways.items()):
        study = "query" if way == "query" else "userinfo"
        json_flag = ["--json"] * (i % 2)
        assert in_process("--show", "--study", study, "--output-dir", str(out_dir), *flags, *json_flag, **extra) == 0, (
            way
        )
    assert PASSWORD not in "".join(printed)
    leaks = [str(path) for path, data in _everything_written(out_dir) if PASSWORD.encode() in data]
    assert not leaks, leaks
    assert len(list(out_dir.glob("*/*/run.json"))) == 3 and (out_dir / "userinfo" / "best.yaml").is_file()


@pytest.mark.parametrize(
    "text",
    [
        "x://y:" * 40_000,
        "a://" * 50_000,
        "a://" + "b" * 200_000 + ":",
        "a" * 200_000 + "://x:y",
        "GET https://example.com:443/x 200\n" * 6000,
        "password=" * 50_000,
    ],
    ids=["colons", "schemes", "long-user", "long-scheme", "log", "keywords"],
)
def test_hiding_takes_linear_time_whatever_the_text(text):
    started = time.perf_counter()
    hide(text + "@")
    assert time.perf_counter() - started < 1.0  # about 0.05 s on a 2-core machine; quadratic took minutes


@pytest.mark.parametrize(
    "text, secret",
    [
        ("host=h password = Zx9Zx9 user=u", "Zx9Zx9"),  # libpq allows blanks around '='
        ("host=h password='a\\'bcd efg' user=u", "bcd efg"),  # and escapes in a quoted value
        ("postgresql://u?x:abcdEF@h/db", "abcdEF"),  # a user name SQLAlchemy reads with '?' or '#'
        ("postgresql://u#x:abcdEF@h/db", "abcdEF"),
    ],
)
def test_libpq_spellings_and_odd_user_names(text, secret):
    assert secret not in hide(text)
