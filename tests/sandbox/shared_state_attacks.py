"""Cross-job channels through state the kernel keeps per file, not per process (issue 22), kept
as data: each is (name, writer, reader). The writer knows a {secret} (16 bits) and tries to leave
it where a later program, or one running at the same time in another sandbox, can read it; the
reader sets ``answer`` to what it recovered (an int), or to a text saying what stopped it.

Placeholders: {secret}, {library} (a large readable library file), {dir} (a directory of 16
files f0..f15 with old access times, readable by every sandbox through the policy's read_paths).
"""

from __future__ import annotations

# A POSIX record lock held at an offset that is the secret, read by F_GETLK while it is held.
LOCK_OFFSET = ("record lock offset", r'''
import fcntl, os, struct, time
fd = os.open({library!r}, os.O_RDONLY)
fcntl.fcntl(fd, fcntl.F_SETLK, struct.pack("hhqqi", fcntl.F_RDLCK, 0, {secret}, 1, 0))
time.sleep(1.5)
answer = "held"
''', r'''
import fcntl, os, struct, time
fd = os.open({library!r}, os.O_RDONLY)
answer = "nothing seen"
end = time.time() + 1.5
while time.time() < end:
    try:
        kind, _, start, _, _ = struct.unpack("hhqqi", fcntl.fcntl(
            fd, fcntl.F_GETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0)))
    except OSError as exc:
        answer = f"F_GETLK refused: {{exc.errno}}"
        break
    if kind != fcntl.F_UNLCK:
        answer = start
        break
    time.sleep(0.01)
''')

# The same through open-file-description locks (F_OFD_SETLK / F_OFD_GETLK, 37 / 36).
OFD_LOCK_OFFSET = ("OFD lock offset", LOCK_OFFSET[1].replace("fcntl.F_SETLK", "37"),
                   LOCK_OFFSET[2].replace("fcntl.F_GETLK", "36"))

# flock: a shared lock on file k of 16 for each 1-bit, tested with LOCK_EX | LOCK_NB.
FLOCK_BITS = ("flock bits", r'''
import fcntl, os, time
held = []
for i in range(16):
    if {secret} >> i & 1:
        fd = os.open({dir!r} + f"/f{{i}}", os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_SH)
        held.append(fd)
time.sleep(1.5)
answer = "held"
''', r'''
import fcntl, os, time
time.sleep(0.5)
value = 0
try:
    for i in range(16):
        fd = os.open({dir!r} + f"/f{{i}}", os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            value |= 1 << i
    answer = value
except OSError as exc:
    answer = f"flock refused: {{exc.errno}}"
''')

# Page cache: evict a page for each 0-bit, read it for each 1-bit; a later program tests each
# page without reading it (preadv2 with RWF_NOWAIT fails with EAGAIN on an uncached page).
PAGE_CACHE = ("page cache residency", r'''
import os
fd = os.open({library!r}, os.O_RDONLY)
try:
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
except OSError:
    pass
for i in range(16):
    offset = (16 + {secret} % 7 * 16 + i * 16) * 4096
    try:
        if {secret} >> i & 1:
            os.pread(fd, 1, offset)
        else:
            os.posix_fadvise(fd, offset, 4096, os.POSIX_FADV_DONTNEED)
    except OSError:
        pass
answer = "written"
''', r'''
import os
fd = os.open({library!r}, os.O_RDONLY)
value = 0
try:
    for i in range(16):
        offset = (16 + {secret} % 7 * 16 + i * 16) * 4096
        try:
            os.preadv(fd, [bytearray(1)], offset, os.RWF_NOWAIT)
            value |= 1 << i
        except BlockingIOError:
            pass
    answer = value
except OSError as exc:
    answer = f"preadv2 refused: {{exc.errno}}"
''')

# The same eviction through madvise(MADV_PAGEOUT) on a mapping of the file, read back likewise.
PAGEOUT = ("madvise pageout", r'''
import mmap, os
fd = os.open({library!r}, os.O_RDONLY)
area = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
for i in range(16):
    offset = (16 + {secret} % 7 * 16 + i * 16) * 4096
    try:
        if {secret} >> i & 1:
            area[offset]
        else:
            area.madvise(21, offset, 4096)  # MADV_PAGEOUT
    except OSError:
        pass
answer = "written"
''', PAGE_CACHE[2])

# Access times: read file k for each 1-bit; a later program stats the files (relatime updates a
# file's atime when it is not newer than its mtime, and at most once a day after that).
ATIME_BITS = ("access time bits", r'''
for i in range(16):
    if {secret} >> i & 1:
        open({dir!r} + f"/f{{i}}").read()
answer = "written"
''', r'''
import os
value = 0
for i in range(16):
    status = os.stat({dir!r} + f"/f{{i}}")
    if status.st_atime > status.st_mtime:
        value |= 1 << i
answer = value
''')

CHANNELS = [LOCK_OFFSET, OFD_LOCK_OFFSET, FLOCK_BITS, PAGE_CACHE, PAGEOUT, ATIME_BITS]
