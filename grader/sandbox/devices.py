"""Which device a grading runs on: the machine's NVIDIA device files and the auto/cpu/gpu choice."""

from __future__ import annotations

import glob


def gpu_devices() -> list[str]:
    """The NVIDIA device files of this machine (empty when no GPU is visible)."""
    return sorted(glob.glob("/dev/nvidia[0-9]*"))


def gpu_support_devices() -> list[str]:
    """Every device file a GPU sandbox needs: the GPUs, their control and helper devices."""
    return gpu_devices() + sorted(glob.glob("/dev/nvidia-*")) + ["/dev/nvidiactl"]


def resolve_device(requested: str, allowed: str = "optional") -> str:
    """"cpu" or "gpu" for a request of auto/cpu/gpu; `allowed` is the exercise's gpu setting.
    Raises ValueError with a user-facing message when a GPU is demanded but not there."""
    if requested not in ("auto", "cpu", "gpu"):
        raise ValueError(f"device must be auto, cpu or gpu, not {requested!r}")
    if requested == "cpu" or allowed == "no":
        return "cpu"
    if gpu_devices():
        return "gpu"
    if requested == "gpu":
        raise ValueError("--device gpu was asked for, but no NVIDIA GPU is visible on this machine "
                         "(no /dev/nvidia*); use --device auto or cpu")
    return "cpu"
