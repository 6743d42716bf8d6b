"""Learner 2 after tests/hostile/next_learner_sabotage.py: looks for anything learner 1 left.
Prepended to a correct perceptron by tests/test_sandbox_modes.py (it must still get full marks)."""
import ctypes as _ctypes
import os as _os

_found = []
_work_root = _os.path.dirname(_os.getcwd())
for _place in {_work_root, _os.getcwd(), _os.environ.get("TMPDIR", "/tmp"), _os.environ.get("HOME", "/tmp"),
               "/tmp", "/dev/shm"}:
    try:
        _names = _os.listdir(_place)
    except OSError:
        continue
    _found += [f"{_place}/{n}" for n in _names if "sabotage" in n or (_place == _work_root and n[:1] == "g"
                                                                       and n[1:].isdigit())]
try:
    _found += [line for line in open("/proc/sysvipc/shm").read().splitlines()[1:] if "23216" in line.split()[:1]]
except OSError:
    pass
_libc = _ctypes.CDLL(None, use_errno=True)
if _libc.shmget(0x5AB0, 0, 0) >= 0:
    _found.append("SysV shm 0x5ab0")
print("SPY-FOUND", sorted(_found))
print("SPY-WORKDIR", _os.getcwd())
