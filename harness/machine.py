"""The machine a figure was measured on: every speed figure names its CPU."""

import os
import platform


def cpu_name():
    """The CPU's model name, family and model (/proc/cpuinfo), and LLVM's name for it."""
    import llvmlite.binding as llvm

    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    name = fields.get("model name") or platform.processor() or "unknown CPU"
    family = f", family {fields['cpu family']} model {fields['model']}" if "model" in fields else ""
    return f"{name}{family} (LLVM {llvm.get_host_cpu_name()}), {os.cpu_count()} CPUs"
