"""Each program alone: sequences on one worker, where an earlier program is the victim or the
accomplice of a later one. Nothing a program computed, printed or wrote may reach a later
program (frames, live objects, freed heap, scratch), and nothing a program does may cost a
later program its verdict (the zygote survives every attack here without being replaced).
"""

from __future__ import annotations

import os
import stat
import tempfile

import pytest

from ekt_curate.sandbox import Sandbox, Status
from tests.sandbox.conftest import fast_policy, sandbox_processes
from tests.sandbox.test_lifecycle import _leftovers

pytestmark = pytest.mark.hostile

# Markers are "EKTMARK-" + 12 digits. Programs that look for them build the prefix from two
# halves, so their own text never holds a marker for them to find in themselves.
HONEST = """\
# EKTMARK-{source_digits} : a marker in the program text
def solution():
    return "EKTMARK-" + "{answer_digits}"
"""

# Walks every frame up to the zygote's serving loop, reprs every live container, and reads
# raw memory around every object (freed heap included): a write() of an unmapped address
# fails with EFAULT instead of crashing, so a pipe makes a safe memory reader.
SCANNER = r'''
import ctypes, gc, os, re, sys
pattern = re.compile((b"EKT" + b"MARK-") + rb"([0-9]{12})")
found = set()
def scan(data):
    found.update(m.decode() for m in pattern.findall(data))
frame = sys._getframe()
while frame is not None:
    for space in (frame.f_locals, frame.f_globals):
        for value in list(space.values()):
            try:
                scan(repr(value)[:200000].encode("utf-8", "replace"))
            except Exception:
                pass
    frame = frame.f_back
objects = gc.get_objects()
for obj in objects:
    try:
        scan(repr(obj)[:20000].encode("utf-8", "replace"))
    except Exception:
        pass
blocks = set()
for obj in objects + [sys, os, re]:
    block = id(obj) >> 20
    blocks.update(range(block - 2, block + 3))
read_end, write_end = os.pipe()
CHUNK, PAGE = 65536, 4096
def read_at(address, size):
    try:
        os.write(write_end, (ctypes.c_char * size).from_address(address))
    except OSError:
        return None
    return os.read(read_end, size)
tail = b""
for block in sorted(blocks):
    for address in range(block << 20, (block + 1) << 20, CHUNK):
        data = read_at(address, CHUNK)
        if data is None:
            data = b"".join(read_at(a, PAGE) or b"\0" * PAGE for a in range(address, address + CHUNK, PAGE))
        scan(tail + data)
        tail = data[-24:]
answer = ",".join(sorted(found)) or "clean"
'''


def _scan_policy():
    return fast_policy(wall_seconds=60.0, cpu_seconds=30, memory_mib=1024)


def test_a_later_program_finds_nothing_of_earlier_ones_in_frames_objects_or_heap():
    honest = [HONEST.format(source_digits=f"{i:012d}", answer_digits=f"{10**11 + i:012d}") for i in range(1, 6)]
    with Sandbox(_scan_policy(), workers=1) as box:
        results = list(box.map([*honest, SCANNER, honest[0], SCANNER]))
        for result, index in zip(results[:5], range(1, 6)):
            assert result.answer == f"EKTMARK-{10**11 + index:012d}"  # they ran, and their markers exist
        for scan in (results[5], results[7]):
            assert scan.status is Status.OK, scan
            assert scan.answer == "clean", f"a later program found earlier jobs' bytes: {scan.answer}"


def test_the_scanner_would_find_a_marker_in_its_own_process():
    # The scanner has teeth: a marker the scanning program itself holds is found.
    with Sandbox(_scan_policy(), workers=1) as box:
        result = box.run('held = "EKT" + "MARK-" + "424242424242"\n' + SCANNER)
        assert result.status is Status.OK and "424242424242" in str(result.answer)


DEAD_DROP_WRITER = r'''
import os
base = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
fd = base
for level in range(24):                       # 24 x 200 characters: deeper than PATH_MAX
    name = "d" * 199 + chr(97 + level % 26)
    os.mkdir(name, 0o700, dir_fd=fd)
    fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
with open(os.open("drop", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as handle:
    handle.write("EKT" + "MARK-" + "777777777777")
os.mkdir("locked", 0o000)                     # a directory even its owner cannot list
os.mkdir("wide")
for i in range(300):
    open(f"wide/f{i}", "w").close()
answer = "dropped"
'''

DEAD_DROP_READER = r'''
import os
found = []
def walk(fd, depth):
    if depth > 200:
        return
    for name in os.listdir(fd):
        try:
            child = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=fd)
        except OSError:
            found.append("unopenable:" + name)
            continue
        try:
            if os.path.isdir(f"/proc/self/fd/{child}") or os.fstat(child).st_mode & 0o40000:
                walk(child, depth + 1)
            else:
                found.append(os.read(child, 100).decode(errors="replace"))
        finally:
            os.close(child)
for start in (".", ".."):  # ".." is the zygote's scratch area: 0711, so not even listable
    try:
        walk(os.open(start, os.O_RDONLY | os.O_DIRECTORY), 0)
    except PermissionError:
        pass
answer = "|".join(found) or "clean"
'''


def test_nothing_a_program_writes_in_scratch_survives_it():
    with Sandbox(fast_policy(), workers=1) as box:
        writer, reader = list(box.map([DEAD_DROP_WRITER, DEAD_DROP_READER]))
        assert writer.answer == "dropped", writer
        assert reader.status is Status.OK and reader.answer == "clean", reader
        zygote = box.zygote_pids[0]
        area = f"/proc/{zygote}/root{box._scratch_root}"
        assert [_leftovers(os.path.join(area, entry)) for entry in os.listdir(area) if entry != ".owner"] == [[]]
        assert box.replacements == 0


ZYGOTE_KILLERS = {
    "deeply nested report": "import os\nos.write(3, b'[' * 200000)\nos._exit(0)\n",
    "deeply nested valid-looking report":
        "import os\nos.write(3, b'{\"status\":\"ok\",\"answer\":' + b'[' * 100000 + b']' * 100000 + b'}\\n')\nos._exit(0)\n",
    "thousand-level tree": "import os\nfor _ in range(1000):\n    os.mkdir('d')\n    os.chdir('d')\nanswer = 1\n",
    "inodes exhausted": "i = 0\ntry:\n    while True:\n        open(f'f{i}', 'w').close()\n        i += 1\nexcept OSError:\n    pass\nanswer = i\n",
    "bytes exhausted": "try:\n    with open('big', 'wb') as f:\n        while True:\n            f.write(b'x' * 65536)\n"
                       "except OSError:\n    pass\nanswer = 1\n",
    "many files in many dirs": "import os\nfor d in range(20):\n    os.mkdir(f'd{d}')\n"
                               "    for f in range(40):\n        open(f'd{d}/f{f}', 'w').close()\nanswer = 1\n",
}
NEIGHBOUR = "import os\nopen('note', 'w').write('x' * 1000)\nanswer = len(os.listdir('.')) * 21\n"


@pytest.mark.parametrize("attack", sorted(ZYGOTE_KILLERS))
def test_an_attack_on_the_zygote_costs_the_next_program_nothing(attack):
    if attack in ("inodes exhausted", "bytes exhausted") and os.geteuid() != 0:
        pytest.skip("the scratch quota is a private tmpfs, which needs root")
    with Sandbox(fast_policy(), workers=1) as box:
        zygote = box.zygote_pids[0]
        results = list(box.map([ZYGOTE_KILLERS[attack], NEIGHBOUR, ZYGOTE_KILLERS[attack], NEIGHBOUR]))
        for neighbour in results[1::2]:
            assert neighbour.status is Status.OK and neighbour.answer == 21, neighbour  # an empty scratch
        assert box.zygote_pids == [zygote] and box.replacements == 0
        assert sandbox_processes(box) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: the file must belong to the sandbox uid")
def test_file_metadata_outside_scratch_cannot_be_changed():
    folder = tempfile.mkdtemp(prefix="ekt-meta-")
    os.chmod(folder, 0o777)
    target = os.path.join(folder, "owned")
    with open(target, "w") as handle:
        handle.write("x")
    try:
        with Sandbox(fast_policy(), workers=1) as box:
            uid = box.policy.layers.uid_base + box.zygote_pids[0] % (1 << 22)
            os.chown(target, uid, box.policy.layers.gid)
            os.chmod(target, 0o644)
            before = os.stat(target)
            programs = [f"import os\nos.chmod({target!r}, 0o4777)\n", f"import os\nos.utime({target!r}, (0, 0))\n",
                        "import os\nopen('mine', 'w').close()\nos.chmod('mine', 0o4777)\n"]
            for result in box.map(programs):
                assert result.status is Status.RUNTIME_ERROR and result.exc_type == "PermissionError", result
            after = os.stat(target)
            assert stat.S_IMODE(after.st_mode) == 0o644 and after.st_mtime_ns == before.st_mtime_ns
    finally:
        os.remove(target)
        os.rmdir(folder)


FORGED = {
    "zero denominator": '{"status":"ok","answer":["fraction","1/0"]}',
    "float text that is not a float": '{"status":"ok","answer":["float","nan"]}',
    "int with a letter": '{"status":"ok","answer":["int","12a"]}',
    "unknown key": '{"status":"ok","answer":["int","1"],"verdict":"pass"}',
    "infinite float": '{"status":"ok","answer":["float","1e+400"]}',
    "huge decimal exponent": '{"status":"ok","answer":["decimal","1E+999999999"]}',
    "text longer than answer_chars": '{"status":"ok","answer":["str","' + "x" * 1500 + '"]}',
    "a key given twice": '{"status":"ok","answer":["int","1"],"answer":["int","2"]}',
    "two reports": '{"status":"ok","answer":["int","1"]}\\n{"status":"ok","answer":["int","2"]}',
}


@pytest.mark.parametrize("name", sorted(FORGED))
def test_a_forged_report_is_no_answer_and_cannot_break_the_caller(name):
    code = f"import os\nos.write(3, b'{FORGED[name]}\\n')\nos._exit(0)\n"
    with Sandbox(fast_policy(), workers=1) as box:
        result = box.run(code)
        assert result.status is Status.NO_ANSWER and "tampered" in result.detail, result
        assert result.answer is None


def test_text_that_cannot_be_written_as_utf8_comes_back_replaced():
    with Sandbox(fast_policy(), workers=1) as box:
        raised, answered, printed = box.map(["raise ValueError('bad \\ud800 text')\n", "answer = 'x\\udc80y'\n",
                                             "import sys\nsys.stdout.write('\\ud800')\n"])
        for result in (raised, answered, printed):
            for text in (result.detail, str(result.answer), result.stdout_tail, result.stderr_tail):
                text.encode("utf-8")  # never raises: lone surrogates became U+FFFD
        assert raised.status is Status.RUNTIME_ERROR and "\ufffd" in raised.detail


def test_a_value_that_would_be_cut_is_not_judged():
    limit = fast_policy().limits.answer_chars
    programs = {
        "long text answer": f"answer = '-' + ' ' * {limit} + '5'\n",
        "long printed line": f"print('-' + ' ' * {limit} + '5')\n",
        "line longer than the kept tail": "print('-' + ' ' * 10000 + '5')\n",
    }
    with Sandbox(fast_policy(), workers=1) as box:
        for (name, _), result in zip(programs.items(), box.map(programs.values())):
            assert result.status is Status.NO_ANSWER, f"{name}: {result}"
        exact = box.run(f"answer = 'y' * {limit}\n")
        assert exact.status is Status.OK and len(exact.answer) == limit


INODE_SENDER = """
import os
for _ in range({value}):
    os.close(os.open('t', os.O_CREAT | os.O_WRONLY))
    os.unlink('t')
answer = {value}
"""
INODE_RECEIVER = "import os\nanswer = (os.stat('.').st_ino, os.path.basename(os.getcwd()), os.statvfs('.').f_ffree)\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="scratch is a pool of private tmpfs only as root")
def test_a_tmpfs_inode_counter_carries_no_number_from_one_program_to_the_next():
    # Every file a program creates advances its tmpfs's inode counter, deleted or not; a later
    # program could read the count off its own directory's inode. It must see the same thing
    # whatever the earlier one encoded.
    seen = []
    for value in (100, 4217):
        with Sandbox(fast_policy(), workers=1) as box:
            honest = "answer = 1\n"
            results = list(box.map([honest, INODE_SENDER.format(value=value), honest, INODE_RECEIVER]))
            assert results[1].answer == value
            seen.append(results[3].answer)
    assert seen[0] == seen[1], f"the receiver saw {seen}"
