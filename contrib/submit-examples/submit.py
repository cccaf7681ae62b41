#!/usr/bin/python3
"""submit.py - put one job into a spoold spool by the Maildir rule (Python 3, stdlib only).

Usage: submit.py SPOOL_DIR JOB.json      (prints the job's NAME)

Or from a scheduler written in Python:

    from submit import submit
    name = submit("/var/spool/spoold", json.dumps(job).encode())

The rule (README, "How a scheduler submits a job"), so that spoold never
reads a half-written job:

  1. create SPOOL_DIR/tmp/NAME with O_CREAT|O_EXCL under a NAME no other
     writer uses (the time, the process, the host and a counter; tried again
     on a clash);
  2. write the job, os.fsync it, close it;
  3. os.rename it into SPOOL_DIR/new/ (the same file system: the job appears
     whole or not at all);
  4. os.fsync SPOOL_DIR/new itself, so that the rename survives a crash.

Only a light check is made here (a JSON object of at most 64 KiB); `spool
submit` checks a job exactly as spoold will, and spoold moves a file that
is not a valid job to corrupt/ with the reason.

Exit status: 0 done; 64 usage; 65 not a JSON object or too large; 66 the
job file cannot be read; 73 cannot create in tmp/; 74 cannot write, sync or
rename.
"""

import itertools
import json
import os
import re
import socket
import sys
import time

JOB_MAX_SIZE = 65536
_counter = itertools.count(1)


def unique_name():
    """seconds.Mmicroseconds.Ppid.Qcounter.host, as spoold names its own jobs."""
    host = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname()) or "localhost"
    now = time.time()
    return "%d.M%06dP%dQ%d.%s" % (int(now), int(now % 1 * 1e6), os.getpid(),
                                  next(_counter), host)


def check(data):
    """ValueError unless data is a JSON object of at most JOB_MAX_SIZE bytes."""
    if len(data) > JOB_MAX_SIZE:
        raise ValueError("larger than 64 KiB (%d bytes)" % len(data))
    if not isinstance(json.loads(data.decode("utf-8")), dict):
        raise ValueError("not a JSON object")


def submit(spool, data):
    """Put the job (bytes) into the spool; its name."""
    check(data)
    for _ in range(100):
        name = unique_name()
        tmp = os.path.join(spool, "tmp", name)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o640)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError("cannot find a free name in %s/tmp" % spool)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        new = os.path.join(spool, "new", name)
        if os.path.lexists(new):
            raise FileExistsError("%s exists already" % new)
        os.rename(tmp, new)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    dfd = os.open(os.path.join(spool, "new"), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return name


def main(argv):
    if len(argv) != 3:
        print("usage: submit.py SPOOL_DIR JOB.json", file=sys.stderr)
        return 64
    spool, path = argv[1], argv[2]
    try:
        with open(path, "rb") as f:
            data = f.read(JOB_MAX_SIZE + 1)
    except OSError as e:
        print("submit.py: %s: %s" % (path, e.strerror), file=sys.stderr)
        return 66
    try:
        name = submit(spool, data)
    except (ValueError, UnicodeDecodeError) as e:
        print("submit.py: %s: %s" % (path, e), file=sys.stderr)
        return 65
    except FileExistsError as e:
        print("submit.py: %s" % e, file=sys.stderr)
        return 73
    except OSError as e:
        print("submit.py: %s: %s" % (e.filename or spool, e.strerror), file=sys.stderr)
        return 73 if e.filename and os.sep + "tmp" + os.sep in e.filename else 74
    print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
