"""The Vulkan adapters the runs will see, and the one wgpu will take among them.

Asked of the loader itself through ctypes, as wgpu asks it, in a child process with the runs'
environment: so the pre-flight shows whether wgpu will get the GPU or fall back to a CPU adapter
before a run spends its minutes finding out.
"""

import json
import os
import re
import shutil
import struct
import sys

from .commands import PREFLIGHT_TIMEOUT, reason, sh

# The entry point: its --vulkan-adapters runs vulkan_adapters_here in a child process.
PROBE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "gpu_check.py")

DEVICE_TYPES = {0: "other", 1: "integrated GPU", 2: "discrete GPU", 3: "virtual GPU", 4: "CPU"}


def _version(value):
    """A packed Vulkan version (10 bits minor, 12 bits patch) as major.minor.patch."""
    return f"{value >> 22}.{(value >> 12) & 0x3FF}.{value & 0xFFF}"


def vulkan_adapters_here():
    """The physical devices this process's Vulkan loader finds: name, type, vendor, driver.
    Raises RuntimeError when there is no loader or no driver. Run it in a child process
    (`--vulkan-adapters`): a broken driver may crash the process that loads it."""
    import ctypes
    from ctypes import POINTER, byref, c_char_p, c_int, c_uint32, c_void_p

    try:
        lib = ctypes.CDLL("libvulkan.so.1")
    except OSError as error:
        raise RuntimeError(f"no Vulkan loader: {error}")

    class AppInfo(ctypes.Structure):
        _fields_ = [("sType", c_int), ("pNext", c_void_p), ("pApplicationName", c_char_p),
                    ("applicationVersion", c_uint32), ("pEngineName", c_char_p),
                    ("engineVersion", c_uint32), ("apiVersion", c_uint32)]

    class CreateInfo(ctypes.Structure):
        _fields_ = [("sType", c_int), ("pNext", c_void_p), ("flags", c_uint32),
                    ("pApplicationInfo", POINTER(AppInfo)), ("enabledLayerCount", c_uint32),
                    ("ppEnabledLayerNames", c_void_p), ("enabledExtensionCount", c_uint32),
                    ("ppEnabledExtensionNames", c_void_p)]

    lib.vkCreateInstance.argtypes = [POINTER(CreateInfo), c_void_p, POINTER(c_void_p)]
    lib.vkCreateInstance.restype = c_int
    lib.vkEnumeratePhysicalDevices.argtypes = [c_void_p, POINTER(c_uint32), c_void_p]
    lib.vkEnumeratePhysicalDevices.restype = c_int
    lib.vkGetPhysicalDeviceProperties.argtypes = [c_void_p, c_void_p]
    lib.vkDestroyInstance.argtypes = [c_void_p, c_void_p]
    properties2 = getattr(lib, "vkGetPhysicalDeviceProperties2", None)
    if properties2 is not None:
        properties2.argtypes = [c_void_p, c_void_p]

    instance, result, version_1_2 = c_void_p(), None, (1 << 22) | (2 << 12)
    for instance_api in (version_1_2, 1 << 22):  # Vulkan 1.2, else 1.0
        app = AppInfo(0, None, b"gpu_check", 1, b"gpu_check", 1, instance_api)
        info = CreateInfo(1, None, 0, ctypes.pointer(app), 0, None, 0, None)
        result = lib.vkCreateInstance(byref(info), None, byref(instance))
        if result == 0:
            break
    if result != 0:
        meaning = {-9: "VK_ERROR_INCOMPATIBLE_DRIVER: the loader found no driver",
                   -3: "VK_ERROR_INITIALIZATION_FAILED"}.get(result, f"VkResult {result}")
        raise RuntimeError(f"vkCreateInstance failed: {meaning}")
    try:
        count = c_uint32(0)
        lib.vkEnumeratePhysicalDevices(instance, byref(count), None)
        devices = (c_void_p * count.value)()
        lib.vkEnumeratePhysicalDevices(instance, byref(count), ctypes.cast(devices, c_void_p))
        adapters = []
        for device in devices[:count.value]:
            raw = ctypes.create_string_buffer(4096)
            lib.vkGetPhysicalDeviceProperties(device, raw)
            api, driver_version, vendor, device_id, kind = struct.unpack_from("<4Ii", raw.raw, 0)
            adapter = {"name": raw.raw[20:276].split(b"\0")[0].decode("utf-8", "replace"),
                       "type": DEVICE_TYPES.get(kind, f"type {kind}"), "vendor": f"0x{vendor:04x}",
                       "device": f"0x{device_id:04x}", "api": _version(api),
                       "driver": "", "driver_info": "", "driver_version": driver_version}
            if properties2 is not None and instance_api == version_1_2 and api >= version_1_2:
                driver = ctypes.create_string_buffer(1024)
                struct.pack_into("<I", driver, 0, 1000196000)  # ..._PHYSICAL_DEVICE_DRIVER_PROPERTIES
                wrapper = ctypes.create_string_buffer(4096)
                struct.pack_into("<IxxxxQ", wrapper, 0, 1000059001, ctypes.addressof(driver))
                properties2(device, wrapper)
                adapter["driver"] = driver.raw[20:276].split(b"\0")[0].decode("utf-8", "replace")
                adapter["driver_info"] = driver.raw[276:532].split(b"\0")[0].decode("utf-8", "replace")
            adapters.append(adapter)
        return adapters
    finally:
        lib.vkDestroyInstance(instance, None)


def parse_vulkaninfo(text):
    """The adapters in `vulkaninfo --summary` output, in the shape vulkan_adapters_here gives."""
    adapters, current = [], None
    kinds = {"DISCRETE_GPU": "discrete GPU", "INTEGRATED_GPU": "integrated GPU",
             "VIRTUAL_GPU": "virtual GPU", "CPU": "CPU", "OTHER": "other"}
    for line in text.splitlines():
        if re.match(r"^GPU\d+:", line.strip()):
            current = {"name": "", "type": "other", "vendor": "", "device": "", "api": "",
                       "driver": "", "driver_info": ""}
            adapters.append(current)
            continue
        key, _, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if current is None or not _:
            continue
        if key == "deviceName":
            current["name"] = value
        elif key == "deviceType":
            current["type"] = kinds.get(value.replace("PHYSICAL_DEVICE_TYPE_", ""), value)
        elif key in ("driverName", "driverInfo", "apiVersion", "vendorID"):
            current[{"driverName": "driver", "driverInfo": "driver_info", "apiVersion": "api",
                     "vendorID": "vendor"}[key]] = value
    return adapters


def vulkan_adapters(env, timeout=PREFLIGHT_TIMEOUT):
    """The Vulkan adapters the runs' environment `env` reaches, asked in a child process (then
    of `vulkaninfo --summary` if that fails and it is there): (adapters, None) or (None, why)."""
    found = sh([sys.executable, PROBE, "--vulkan-adapters"], timeout=timeout, env=env)
    if found.ok:
        try:
            return json.loads(found.stdout.strip().splitlines()[-1]), None
        except (ValueError, IndexError):
            pass
    why = reason(found.stderr, found.stdout) if found.returncode >= 0 else f"the probe died (signal {-found.returncode})"
    if shutil.which("vulkaninfo", path=env.get("PATH")):
        info = sh(["vulkaninfo", "--summary"], timeout=timeout, env=env)
        adapters = parse_vulkaninfo(info.stdout) if info.ok else []
        if adapters:
            return adapters, None
    return None, why


def describe_adapter(adapter):
    """An adapter in one line: its name, type and driver."""
    driver = " ".join(filter(None, [adapter.get("driver"), adapter.get("driver_info")])) or "driver not named"
    return f"{adapter['name']} ({adapter['type']}; {driver})"


def wgpu_adapter(adapters, forced=None):
    """The adapter wgpu will take among `adapters`, as cubecl-wgpu chooses: with
    CUBECL_WGPU_DEFAULT_DEVICE=DiscreteGpu(n) (`forced`) the n-th discrete GPU or none; else
    wgpu's high-performance preference (discrete, integrated, virtual, other, CPU).
    Returns (adapter or None, why none)."""
    if forced:
        match = re.fullmatch(r"(DiscreteGpu|IntegratedGpu|VirtualGpu|Other)\((\d+)\)|Cpu", forced)
        if match:
            kind = {"DiscreteGpu": "discrete GPU", "IntegratedGpu": "integrated GPU",
                    "VirtualGpu": "virtual GPU", "Other": "other", None: "CPU"}[match.group(1)]
            index = int(match.group(2) or 0)
            same = [adapter for adapter in adapters if adapter["type"] == kind]
            if index < len(same):
                return same[index], None
            return None, f"CUBECL_WGPU_DEFAULT_DEVICE={forced}, and Vulkan has no {kind} #{index}"
    order = ["discrete GPU", "integrated GPU", "virtual GPU", "other", "CPU"]
    ranked = sorted(adapters, key=lambda adapter: order.index(adapter["type"]) if adapter["type"] in order else 9)
    return (ranked[0], None) if ranked else (None, "Vulkan finds no adapter")
