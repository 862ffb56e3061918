"""plugtest: helpers shared by the plugin/import integration tests (not a test itself).

A Daemon configured with a plugin directory and an importable directory, uploads
through import.begin/chunk/end, and sqlite-free checks through the protocol."""
import base64
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dsgtest import SOURCE_DIR, Daemon, check, make_tmpdir  # noqa: E402

HOST_PLUGINS = os.path.join(SOURCE_DIR, "tests", "plugins", "host")
SHIPPED_PLUGINS = os.path.join(SOURCE_DIR, "plugins")


def plugin_daemon(plugin_dirs=None, memory=32 * 1024 * 1024, instructions=50000000, extra=None, copy_plugins=False):
    """Starts a daemon whose plugin_dirs are the test plugins (or a copy of them in the
    temporary directory, to be edited by the test); returns (daemon, importable dir)."""
    d = Daemon(config={})
    imp = os.path.join(d.dir, "importable")
    os.mkdir(imp)
    dirs = plugin_dirs or [HOST_PLUGINS]
    if copy_plugins:
        pdir = os.path.join(d.dir, "plugins")
        os.mkdir(pdir)
        for src in dirs:
            for f in os.listdir(src):
                with open(os.path.join(src, f), "rb") as a, open(os.path.join(pdir, f), "wb") as b:
                    b.write(a.read())
        dirs = [pdir]
    cfg = {"plugin_dirs": dirs, "import_dirs": [imp], "plugin_memory_limit": memory,
           "plugin_instruction_limit": instructions}
    cfg.update(extra or {})
    d.set_config(cfg)
    d.start()
    return d, imp


def write(path, text):
    with open(path, "wb") as f:
        f.write(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def upload(c, name, data, plugin=None, dry_run=False, chunk=256 * 1024, end=True):
    """import.begin + chunks + import.end on client c; returns (result, error) of the last call."""
    res, err = c.call("import.begin", {"plugin": plugin, "name": name, "size": len(data),
                                       "head": base64.b64encode(data[:4096]).decode(), "dry_run": dry_run})
    if err:
        return None, err
    token = res["import"]
    for i in range(0, len(data), chunk):
        r, err = c.call("import.chunk", {"import": token, "data": base64.b64encode(data[i:i + chunk]).decode()})
        if err:
            return None, err
    if not end:
        return token, None
    return c.call("import.end", {"import": token}, timeout=600)


def count_nodes(c):
    return c.ok("stats")["nodes"]


def spool_files(d):
    return [f for f in os.listdir(d.dir) if f.startswith(".dsgraph-import-")]


def alive(d, c=None):
    check(d.alive(), "the daemon died")
    if c is None:
        with d.client() as c2:
            c2.ok("ping")
    else:
        c.ok("ping")
