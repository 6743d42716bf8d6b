"""Learner 1 of a batch, trying to break learner 2 of the same worker (the same zygote): it
pre-creates the work folders it can guess, leaves read-only folders and files in every writable
place (/work, /tmp, /dev/shm, $TMPDIR, $HOME), makes SysV shared memory, and leaves a setsid()
process that keeps writing files after its grading. Every name it leaves contains "sabotage"."""
import ctypes
import os
import stat
import time

MARK = "dlgrade-sabotage"
work_root = os.path.dirname(os.getcwd())  # /work in a namespace; the zygote's private work folder else
places = {work_root, os.getcwd(), os.environ.get("TMPDIR", "/tmp"), os.environ.get("HOME", "/tmp"),
          "/tmp", "/dev/shm"}
left = []

for i in range(1, 40):  # the old, predictable names of the next grading's folder
    try:
        os.makedirs(os.path.join(work_root, f"g{i}"))
        os.chmod(os.path.join(work_root, f"g{i}"), 0)
        left.append(f"g{i}")
    except OSError:
        pass

for place in places:
    try:
        d = os.path.join(place, MARK + "-ro")
        os.makedirs(os.path.join(d, "inner"), exist_ok=True)
        with open(os.path.join(d, "inner", MARK + "-answers.txt"), "w") as fh:
            fh.write("learner 1 was here")
        with open(os.path.join(place, MARK + "-file"), "w") as fh:
            fh.write("learner 1 was here")
        os.chmod(os.path.join(place, MARK + "-file"), 0)
        os.chmod(os.path.join(d, "inner"), stat.S_IRUSR | stat.S_IXUSR)
        os.chmod(d, stat.S_IRUSR | stat.S_IXUSR)
        left.append(place)
    except OSError as err:
        print("could not litter", place, type(err).__name__)

libc = ctypes.CDLL(None, use_errno=True)
shm = libc.shmget(0x5AB0, 4096, 0o1000 | 0o666)  # IPC_CREAT
print("SHMGET", shm, "errno", ctypes.get_errno())

if os.fork() == 0:  # outlive the grading and keep littering
    os.setsid()
    if os.fork() == 0:
        target = os.environ.get("TMPDIR", "/tmp")
        for n in range(2000):
            for place in (target, work_root):
                try:
                    open(os.path.join(place, f"{MARK}-late-{n}"), "w").close()
                except OSError:
                    pass
            time.sleep(0.01)
    os._exit(0)
time.sleep(0.1)
print("LEFT", left)


def step(z):
    raise NotImplementedError


predict = train_perceptron = logic_gate = step
