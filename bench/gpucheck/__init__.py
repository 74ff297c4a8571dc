"""The parts of `gpu_check.py` (the entry point beside this folder), one concern a module.

commands   commands under timeouts, the deadline, and why a command failed in one line
bundle     the bundle's compressed binaries and MNIST files, and which binary runs a backend
loader     Debian's Vulkan loader unpacked without dpkg, pointed at the NVIDIA driver's manifests
vulkan     the Vulkan adapters the runs will see, and the one wgpu will take
cuda       the NVIDIA GPU, a Python with torch, and libdevice for Burn's cuda backend
preflight  the environment every run gets, and the pre-flight lines saying what was found
steps      each command of the check run against the deadline, logged, its GPU memory polled
runs       the training runs, profiles and throughput, each a row of the table
report     the table's rows and the files that come back (report, log, results, archive)
sending    what the GPU machine is sent (the bundle with the repository) and the command run there

Standard library only: the GPU machine has no network to install anything.
"""
