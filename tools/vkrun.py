"""A small Vulkan compute runner for tests, demos and benchmarks.

Runs one compute entry point of a SPIR-V module with host-visible storage
buffers bound at descriptor set 0, bindings 0..n-1, and returns the final
contents of every buffer.

The instance, device, queue and command pool are created once per process
(on first use) and reused; everything else is created and destroyed per run.
Device selection prefers discrete > integrated > virtual > CPU devices; the
environment variable ``SPVLINK_VK_DEVICE`` picks the first device whose name
contains the given substring (case-insensitive). The Vulkan loader itself
honours ``VK_ICD_FILENAMES`` / ``VK_DRIVER_FILES``; nothing here names a driver.

Command line::

    python tools/vkrun.py SHADER.spv [--entry main] [--groups X Y Z]
        [--buffer-u32 N ...] [--spec ID=VALUE ...] [--repeat K]

prints the first words of every buffer and the time per run.
"""

from __future__ import annotations

import atexit
import os
import struct
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "VulkanError",
    "device_name",
    "entry_points",
    "run_compute",
    "vulkan_available",
]

SPIRV_MAGIC = 0x07230203
_EXEC_MODEL_GLCOMPUTE = 5
_OP_ENTRY_POINT = 15
_WHOLE_SIZE = 0xFFFFFFFFFFFFFFFF  # the binding defines VK_WHOLE_SIZE as -1


class VulkanError(RuntimeError):
    """Raised when Vulkan is unavailable or a compute run fails."""


# --------------------------------------------------------------------------- SPIR-V checks


def _words(spirv: bytes) -> tuple[str, list[int]]:
    """Check the header of a SPIR-V blob; return its byte order and words."""
    if not isinstance(spirv, bytes | bytearray | memoryview):
        raise VulkanError(f"SPIR-V must be bytes, not {type(spirv).__name__}")
    data = bytes(spirv)
    if len(data) < 20:
        raise VulkanError(f"SPIR-V blob too short ({len(data)} bytes; the header alone is 20)")
    if len(data) % 4:
        raise VulkanError(f"SPIR-V blob length {len(data)} is not a multiple of 4")
    (magic,) = struct.unpack("<I", data[:4])
    if magic == SPIRV_MAGIC:
        order = "<"
    elif struct.unpack(">I", data[:4])[0] == SPIRV_MAGIC:
        order = ">"
    else:
        raise VulkanError(
            f"not SPIR-V: magic number is {magic:#010x}, expected {SPIRV_MAGIC:#010x}"
        )
    words = list(struct.unpack(f"{order}{len(data) // 4}I", data))
    return order, words


def entry_points(spirv: bytes) -> list[tuple[int, str]]:
    """Return (execution model, name) of every OpEntryPoint in a SPIR-V blob.

    Raises VulkanError when the header or the instruction stream is malformed.
    """
    _, words = _words(spirv)
    result: list[tuple[int, str]] = []
    i = 5
    n = len(words)
    while i < n:
        wc = words[i] >> 16
        op = words[i] & 0xFFFF
        if wc == 0 or i + wc > n:
            raise VulkanError(f"malformed SPIR-V: instruction at word {i} has word count {wc}")
        if op == _OP_ENTRY_POINT and wc >= 4:
            raw = struct.pack(f"<{wc - 3}I", *words[i + 3 : i + wc])
            name = raw.split(b"\0", 1)[0].decode("utf-8", "replace")
            result.append((words[i + 1], name))
        i += wc
    return result


# --------------------------------------------------------------------------- context


@dataclass
class _Context:
    vk: Any
    instance: Any
    physical: Any
    name: str
    props: Any
    device: Any
    queue: Any
    family: int
    pool: Any
    mem_types: list[tuple[int, int]]  # (propertyFlags, heapIndex)
    max_push: int
    lock: threading.Lock = field(default_factory=threading.Lock)


_ctx: _Context | None = None
_ctx_error: str | None = None
_ctx_lock = threading.Lock()

_TYPE_RANK = {2: 0, 1: 1, 3: 2, 4: 3, 0: 4}  # discrete, integrated, virtual, cpu, other


def _vk_msg(exc: BaseException) -> str:
    return f"{type(exc).__name__}{': ' + str(exc) if str(exc) else ''}"


def _pick_device(vk: Any, devices: Sequence[Any]) -> tuple[Any, Any]:
    props = [vk.vkGetPhysicalDeviceProperties(d) for d in devices]
    want = os.environ.get("SPVLINK_VK_DEVICE", "").strip()
    if want:
        for d, p in zip(devices, props, strict=True):
            if want.lower() in p.deviceName.lower():
                return d, p
        names = ", ".join(p.deviceName for p in props)
        raise VulkanError(f"SPVLINK_VK_DEVICE={want!r} matches no device (have: {names})")
    order = sorted(range(len(devices)), key=lambda k: _TYPE_RANK.get(props[k].deviceType, 5))
    return devices[order[0]], props[order[0]]


def _create_device(vk: Any, physical: Any, api: int, family: int) -> Any:
    """Create a logical device with (almost) every supported feature enabled.

    robustBufferAccess / robustImageAccess are left off so that timings reflect
    ordinary pipelines. Falls back to core features only, then to none.
    """
    ffi = vk.ffi
    queue_info = vk.VkDeviceQueueCreateInfo(
        sType=vk.VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        queueFamilyIndex=family,
        queueCount=1,
        pQueuePriorities=[1.0],
    )
    attempts: list[Any] = []
    keep: list[Any] = []
    if api >= vk.VK_MAKE_VERSION(1, 2, 0):
        try:
            f2 = ffi.new("VkPhysicalDeviceFeatures2*")
            f2.sType = vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2
            f11 = ffi.new("VkPhysicalDeviceVulkan11Features*")
            f11.sType = vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES
            f12 = ffi.new("VkPhysicalDeviceVulkan12Features*")
            f12.sType = vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES
            f2.pNext = ffi.cast("void*", f11)
            f11.pNext = ffi.cast("void*", f12)
            keep += [f2, f11, f12]
            if api >= vk.VK_MAKE_VERSION(1, 3, 0):
                f13 = ffi.new("VkPhysicalDeviceVulkan13Features*")
                f13.sType = vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES
                f12.pNext = ffi.cast("void*", f13)
                keep.append(f13)
                vk.vkGetPhysicalDeviceFeatures2(physical, f2)
                f13.robustImageAccess = 0
            else:
                vk.vkGetPhysicalDeviceFeatures2(physical, f2)
            f2.features.robustBufferAccess = 0
            f11.protectedMemory = 0
            attempts.append(("chain", f2))
        except Exception:  # noqa: BLE001 - binding without these structs: fall back
            pass
    try:
        core = vk.vkGetPhysicalDeviceFeatures(physical)
        core.robustBufferAccess = 0
        attempts.append(("core", core))
    except Exception:  # noqa: BLE001
        pass
    attempts.append(("none", None))
    last: BaseException | None = None
    for kind, feats in attempts:
        try:
            if kind == "chain":
                info = vk.VkDeviceCreateInfo(
                    sType=vk.VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                    pNext=feats,
                    queueCreateInfoCount=1,
                    pQueueCreateInfos=[queue_info],
                )
            else:
                info = vk.VkDeviceCreateInfo(
                    sType=vk.VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                    queueCreateInfoCount=1,
                    pQueueCreateInfos=[queue_info],
                    pEnabledFeatures=feats,
                )
            return vk.vkCreateDevice(physical, info, None)
        except Exception as exc:  # noqa: BLE001
            last = exc
    raise VulkanError(f"vkCreateDevice failed: {_vk_msg(last) if last else '?'}")


def _make_context() -> _Context:
    try:
        import vulkan as vk
    except Exception as exc:  # noqa: BLE001 - OSError when libvulkan is missing, etc.
        raise VulkanError(f"cannot import the vulkan binding: {_vk_msg(exc)}") from exc
    try:
        inst_version = vk.vkEnumerateInstanceVersion()
    except Exception:  # noqa: BLE001 - a 1.0 loader
        inst_version = vk.VK_MAKE_VERSION(1, 0, 0)
    api = min(inst_version, vk.VK_MAKE_VERSION(1, 3, 0))
    app = vk.VkApplicationInfo(
        sType=vk.VK_STRUCTURE_TYPE_APPLICATION_INFO,
        pApplicationName="spvlink-vkrun",
        applicationVersion=1,
        pEngineName="spvlink",
        engineVersion=1,
        apiVersion=api,
    )
    try:
        instance = vk.vkCreateInstance(
            vk.VkInstanceCreateInfo(
                sType=vk.VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, pApplicationInfo=app
            ),
            None,
        )
    except Exception as exc:  # noqa: BLE001
        raise VulkanError(f"vkCreateInstance failed: {_vk_msg(exc)}") from exc
    try:
        devices = vk.vkEnumeratePhysicalDevices(instance)
        if not devices:
            raise VulkanError("no Vulkan physical device found")
        physical, props = _pick_device(vk, devices)
        families = vk.vkGetPhysicalDeviceQueueFamilyProperties(physical)
        family = next(
            (
                i
                for i, f in enumerate(families)
                if f.queueFlags & vk.VK_QUEUE_COMPUTE_BIT and f.queueCount > 0
            ),
            None,
        )
        if family is None:
            raise VulkanError(f"device {props.deviceName!r} has no compute queue")
        dev_api = min(api, props.apiVersion)
        device = _create_device(vk, physical, dev_api, family)
        queue = vk.vkGetDeviceQueue(device, family, 0)
        pool = vk.vkCreateCommandPool(
            device,
            vk.VkCommandPoolCreateInfo(
                sType=vk.VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                flags=vk.VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                queueFamilyIndex=family,
            ),
            None,
        )
        memprops = vk.vkGetPhysicalDeviceMemoryProperties(physical)
        mem_types = [
            (memprops.memoryTypes[i].propertyFlags, memprops.memoryTypes[i].heapIndex)
            for i in range(memprops.memoryTypeCount)
        ]
    except VulkanError:
        vk.vkDestroyInstance(instance, None)
        raise
    except Exception as exc:  # noqa: BLE001
        vk.vkDestroyInstance(instance, None)
        raise VulkanError(f"Vulkan device setup failed: {_vk_msg(exc)}") from exc
    return _Context(
        vk=vk,
        instance=instance,
        physical=physical,
        name=str(props.deviceName),
        props=props,
        device=device,
        queue=queue,
        family=family,
        pool=pool,
        mem_types=mem_types,
        max_push=int(props.limits.maxPushConstantsSize),
    )


def _shutdown() -> None:
    global _ctx
    ctx = _ctx
    _ctx = None
    if ctx is None:
        return
    vk = ctx.vk
    try:
        vk.vkDeviceWaitIdle(ctx.device)
        vk.vkDestroyCommandPool(ctx.device, ctx.pool, None)
        vk.vkDestroyDevice(ctx.device, None)
        vk.vkDestroyInstance(ctx.instance, None)
    except Exception:  # noqa: BLE001 - best effort at exit
        pass


def _context() -> _Context:
    global _ctx, _ctx_error
    if _ctx is not None:
        return _ctx
    with _ctx_lock:
        if _ctx is not None:
            return _ctx
        if _ctx_error is not None:
            raise VulkanError(_ctx_error)
        try:
            _ctx = _make_context()
        except VulkanError as exc:
            _ctx_error = str(exc)
            raise
        except Exception as exc:  # noqa: BLE001
            _ctx_error = f"Vulkan setup failed: {_vk_msg(exc)}"
            raise VulkanError(_ctx_error) from exc
        atexit.register(_shutdown)
        return _ctx


def vulkan_available() -> bool:
    """True when the vulkan binding imports and a device can be set up (cached)."""
    try:
        _context()
    except Exception:  # noqa: BLE001
        return False
    return True


def device_name() -> str:
    """Name of the device that run_compute uses (raises VulkanError if none)."""
    return _context().name


# --------------------------------------------------------------------------- runs


def _as_bytes(buf: np.ndarray | bytes | bytearray | memoryview) -> bytes:
    if isinstance(buf, np.ndarray):
        return np.ascontiguousarray(buf).tobytes()
    if isinstance(buf, bytes | bytearray | memoryview):
        return bytes(buf)
    raise VulkanError(f"buffer must be a numpy array or bytes, not {type(buf).__name__}")


def _memory_type(ctx: _Context, type_bits: int) -> tuple[int, bool]:
    vk = ctx.vk
    visible = vk.VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT
    coherent = vk.VK_MEMORY_PROPERTY_HOST_COHERENT_BIT
    cached = vk.VK_MEMORY_PROPERTY_HOST_CACHED_BIT
    for want in (visible | coherent | cached, visible | coherent, visible):
        for i, (flags, _) in enumerate(ctx.mem_types):
            if type_bits & (1 << i) and flags & want == want:
                return i, bool(flags & coherent)
    raise VulkanError("no host-visible memory type for a storage buffer")


def run_compute(
    spirv: bytes,
    entry: str = "main",
    buffers: Sequence[np.ndarray | bytes] = (),
    groups: tuple[int, int, int] = (1, 1, 1),
    push_constants: bytes | None = None,
    specialization: dict[int, int] | None = None,
) -> list[bytes]:
    """Run one compute dispatch and return the final bytes of every buffer.

    Buffer i is a host-visible storage buffer at set 0, binding i, filled with
    the given contents (a zero-length buffer gets 4 zero bytes on the device and
    comes back empty). ``specialization`` maps constant IDs to 32-bit values
    (ints are stored as uint32; negative ints as their two's complement).
    """
    if len(groups) != 3 or any(int(g) < 0 for g in groups):
        raise VulkanError(f"groups must be three non-negative ints, got {groups!r}")
    eps = entry_points(spirv)
    if (_EXEC_MODEL_GLCOMPUTE, entry) not in eps:
        have = ", ".join(repr(n) for m, n in eps if m == _EXEC_MODEL_GLCOMPUTE) or "none"
        raise VulkanError(
            f"SPIR-V has no GLCompute entry point named {entry!r} (compute entry points: {have})"
        )
    datas = [_as_bytes(b) for b in buffers]
    ctx = _context()
    if push_constants is not None:
        push_constants = bytes(push_constants)
        if len(push_constants) % 4:
            push_constants += b"\0" * (4 - len(push_constants) % 4)
        if len(push_constants) > ctx.max_push:
            raise VulkanError(
                f"push constants are {len(push_constants)} bytes; device allows {ctx.max_push}"
            )
        if not push_constants:
            push_constants = None
    with ctx.lock:
        return _run_locked(ctx, bytes(spirv), entry, datas, groups, push_constants, specialization)


def _run_locked(
    ctx: _Context,
    spirv: bytes,
    entry: str,
    datas: list[bytes],
    groups: tuple[int, int, int],
    push_constants: bytes | None,
    specialization: dict[int, int] | None,
) -> list[bytes]:
    vk = ctx.vk
    ffi = vk.ffi
    dev = ctx.device
    cleanup: list[Any] = []  # callables, run in reverse order
    step = "start"
    try:
        # Buffers and memory.
        bufs: list[tuple[Any, Any, int, bool]] = []
        for idx, data in enumerate(datas):
            step = f"buffer {idx}"
            size = max(len(data), 4)
            buf = vk.vkCreateBuffer(
                dev,
                vk.VkBufferCreateInfo(
                    sType=vk.VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                    size=size,
                    usage=vk.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                    sharingMode=vk.VK_SHARING_MODE_EXCLUSIVE,
                ),
                None,
            )
            cleanup.append(lambda b=buf: vk.vkDestroyBuffer(dev, b, None))
            req = vk.vkGetBufferMemoryRequirements(dev, buf)
            mtype, coherent = _memory_type(ctx, req.memoryTypeBits)
            mem = vk.vkAllocateMemory(
                dev,
                vk.VkMemoryAllocateInfo(
                    sType=vk.VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                    allocationSize=req.size,
                    memoryTypeIndex=mtype,
                ),
                None,
            )
            cleanup.append(lambda m=mem: vk.vkFreeMemory(dev, m, None))
            vk.vkBindBufferMemory(dev, buf, mem, 0)
            ptr = vk.vkMapMemory(dev, mem, 0, size, 0)
            ptr[0:size] = data + b"\0" * (size - len(data))
            if not coherent:
                vk.vkFlushMappedMemoryRanges(
                    dev,
                    1,
                    [
                        vk.VkMappedMemoryRange(
                            sType=vk.VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
                            memory=mem,
                            offset=0,
                            size=_WHOLE_SIZE,
                        )
                    ],
                )
            vk.vkUnmapMemory(dev, mem)
            bufs.append((buf, mem, size, coherent))

        # Descriptor set layout, pipeline layout.
        step = "descriptor set layout"
        bindings = [
            vk.VkDescriptorSetLayoutBinding(
                binding=i,
                descriptorType=vk.VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                descriptorCount=1,
                stageFlags=vk.VK_SHADER_STAGE_COMPUTE_BIT,
            )
            for i in range(len(bufs))
        ]
        dsl = vk.vkCreateDescriptorSetLayout(
            dev,
            vk.VkDescriptorSetLayoutCreateInfo(
                sType=vk.VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                bindingCount=len(bindings),
                pBindings=bindings or None,
            ),
            None,
        )
        cleanup.append(lambda: vk.vkDestroyDescriptorSetLayout(dev, dsl, None))
        step = "pipeline layout"
        ranges = (
            [
                vk.VkPushConstantRange(
                    stageFlags=vk.VK_SHADER_STAGE_COMPUTE_BIT, offset=0, size=len(push_constants)
                )
            ]
            if push_constants
            else None
        )
        layout = vk.vkCreatePipelineLayout(
            dev,
            vk.VkPipelineLayoutCreateInfo(
                sType=vk.VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                setLayoutCount=1,
                pSetLayouts=[dsl],
                pushConstantRangeCount=len(ranges) if ranges else 0,
                pPushConstantRanges=ranges,
            ),
            None,
        )
        cleanup.append(lambda: vk.vkDestroyPipelineLayout(dev, layout, None))

        # Descriptor pool and set.
        descriptor_set = None
        if bufs:
            step = "descriptor pool"
            dpool = vk.vkCreateDescriptorPool(
                dev,
                vk.VkDescriptorPoolCreateInfo(
                    sType=vk.VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                    maxSets=1,
                    poolSizeCount=1,
                    pPoolSizes=[
                        vk.VkDescriptorPoolSize(
                            type=vk.VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, descriptorCount=len(bufs)
                        )
                    ],
                ),
                None,
            )
            cleanup.append(lambda: vk.vkDestroyDescriptorPool(dev, dpool, None))
            descriptor_set = vk.vkAllocateDescriptorSets(
                dev,
                vk.VkDescriptorSetAllocateInfo(
                    sType=vk.VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                    descriptorPool=dpool,
                    descriptorSetCount=1,
                    pSetLayouts=[dsl],
                ),
            )[0]
            writes = [
                vk.VkWriteDescriptorSet(
                    sType=vk.VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                    dstSet=descriptor_set,
                    dstBinding=i,
                    dstArrayElement=0,
                    descriptorCount=1,
                    descriptorType=vk.VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                    pBufferInfo=[vk.VkDescriptorBufferInfo(buffer=b, offset=0, range=_WHOLE_SIZE)],
                )
                for i, (b, _, _, _) in enumerate(bufs)
            ]
            vk.vkUpdateDescriptorSets(dev, len(writes), writes, 0, None)

        # Shader module and pipeline.
        step = "shader module"
        module = vk.vkCreateShaderModule(
            dev,
            vk.VkShaderModuleCreateInfo(
                sType=vk.VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                codeSize=len(spirv),
                pCode=spirv,
            ),
            None,
        )
        cleanup.append(lambda: vk.vkDestroyShaderModule(dev, module, None))
        step = "compute pipeline"
        spec_info = None
        if specialization:
            items = sorted(specialization.items())
            data = ffi.new("uint32_t[]", [int(v) & 0xFFFFFFFF for _, v in items])
            entries = [
                vk.VkSpecializationMapEntry(constantID=int(cid), offset=4 * k, size=4)
                for k, (cid, _) in enumerate(items)
            ]
            spec_info = vk.VkSpecializationInfo(
                mapEntryCount=len(entries),
                pMapEntries=entries,
                dataSize=4 * len(items),
                pData=ffi.cast("void*", data),
            )
            cleanup.append(lambda d=data: d)  # keep the data alive until the end
        stage = vk.VkPipelineShaderStageCreateInfo(
            sType=vk.VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
            stage=vk.VK_SHADER_STAGE_COMPUTE_BIT,
            module=module,
            pName=entry,
            pSpecializationInfo=spec_info,
        )
        pipeline = vk.vkCreateComputePipelines(
            dev,
            vk.VK_NULL_HANDLE,
            1,
            [
                vk.VkComputePipelineCreateInfo(
                    sType=vk.VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
                    stage=stage,
                    layout=layout,
                )
            ],
            None,
        )[0]
        cleanup.append(lambda: vk.vkDestroyPipeline(dev, pipeline, None))

        # Record, submit, wait.
        step = "command buffer"
        cmd = vk.vkAllocateCommandBuffers(
            dev,
            vk.VkCommandBufferAllocateInfo(
                sType=vk.VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                commandPool=ctx.pool,
                level=vk.VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                commandBufferCount=1,
            ),
        )[0]
        cleanup.append(lambda: vk.vkFreeCommandBuffers(dev, ctx.pool, 1, [cmd]))
        vk.vkBeginCommandBuffer(
            cmd,
            vk.VkCommandBufferBeginInfo(
                sType=vk.VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                flags=vk.VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
            ),
        )
        vk.vkCmdBindPipeline(cmd, vk.VK_PIPELINE_BIND_POINT_COMPUTE, pipeline)
        if descriptor_set is not None:
            vk.vkCmdBindDescriptorSets(
                cmd, vk.VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0, 1, [descriptor_set], 0, None
            )
        if push_constants:
            pc = ffi.new("char[]", push_constants)
            vk.vkCmdPushConstants(
                cmd,
                layout,
                vk.VK_SHADER_STAGE_COMPUTE_BIT,
                0,
                len(push_constants),
                ffi.cast("void*", pc),
            )
        gx, gy, gz = (int(g) for g in groups)
        vk.vkCmdDispatch(cmd, gx, gy, gz)
        barrier = vk.VkMemoryBarrier(
            sType=vk.VK_STRUCTURE_TYPE_MEMORY_BARRIER,
            srcAccessMask=vk.VK_ACCESS_SHADER_WRITE_BIT,
            dstAccessMask=vk.VK_ACCESS_HOST_READ_BIT,
        )
        vk.vkCmdPipelineBarrier(
            cmd,
            vk.VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
            vk.VK_PIPELINE_STAGE_HOST_BIT,
            0,
            1,
            [barrier],
            0,
            None,
            0,
            None,
        )
        vk.vkEndCommandBuffer(cmd)
        step = "submit"
        fence = vk.vkCreateFence(
            dev, vk.VkFenceCreateInfo(sType=vk.VK_STRUCTURE_TYPE_FENCE_CREATE_INFO), None
        )
        cleanup.append(lambda: vk.vkDestroyFence(dev, fence, None))
        vk.vkQueueSubmit(
            ctx.queue,
            1,
            [
                vk.VkSubmitInfo(
                    sType=vk.VK_STRUCTURE_TYPE_SUBMIT_INFO,
                    commandBufferCount=1,
                    pCommandBuffers=[cmd],
                )
            ],
            fence,
        )
        step = "wait"
        vk.vkWaitForFences(dev, 1, [fence], vk.VK_TRUE, 0xFFFFFFFFFFFFFFFF)

        # Read back.
        step = "read back"
        out: list[bytes] = []
        for (_, mem, size, coherent), data in zip(bufs, datas, strict=True):
            ptr = vk.vkMapMemory(dev, mem, 0, size, 0)
            if not coherent:
                vk.vkInvalidateMappedMemoryRanges(
                    dev,
                    1,
                    [
                        vk.VkMappedMemoryRange(
                            sType=vk.VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
                            memory=mem,
                            offset=0,
                            size=_WHOLE_SIZE,
                        )
                    ],
                )
            out.append(bytes(ptr[0 : len(data)]))
            vk.vkUnmapMemory(dev, mem)
        return out
    except VulkanError:
        raise
    except Exception as exc:  # noqa: BLE001 - the binding raises VkError subclasses
        hint = ""
        if step in ("shader module", "compute pipeline"):
            hint = (
                " (the driver rejected the shader; check it with spirv-val --target-env vulkan1.1)"
            )
        raise VulkanError(f"Vulkan compute run failed at {step}: {_vk_msg(exc)}{hint}") from exc
    finally:
        for fn in reversed(cleanup):
            try:
                fn()
            except Exception:  # noqa: BLE001 - cleanup is best effort
                pass


# --------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Run a SPIR-V compute shader with Vulkan.")
    ap.add_argument("shader", help="SPIR-V binary")
    ap.add_argument("--entry", default="main")
    ap.add_argument("--groups", type=int, nargs=3, default=(1, 1, 1), metavar=("X", "Y", "Z"))
    ap.add_argument(
        "--buffer-u32",
        type=int,
        action="append",
        default=[],
        metavar="N",
        help="add a buffer of N uint32 holding 0..N-1 (repeatable)",
    )
    ap.add_argument("--spec", action="append", default=[], metavar="ID=VALUE")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv)
    with open(args.shader, "rb") as f:
        spirv = f.read()
    spec = {int(k): int(v, 0) for k, v in (s.split("=", 1) for s in args.spec)}
    bufs = [np.arange(n, dtype=np.uint32) for n in args.buffer_u32]
    try:
        print(f"device: {device_name()}")
        out: list[bytes] = []
        times = []
        for _ in range(max(args.repeat, 1)):
            t0 = time.perf_counter()
            out = run_compute(spirv, args.entry, bufs, tuple(args.groups), None, spec or None)
            times.append(time.perf_counter() - t0)
    except VulkanError as exc:
        print(f"error: {exc}")
        return 1
    for i, b in enumerate(out):
        words = np.frombuffer(b, dtype=np.uint32)
        print(f"buffer {i}: {words[:16].tolist()}{' ...' if len(words) > 16 else ''}")
    print(
        f"run: min {min(times) * 1e3:.2f} ms, median {sorted(times)[len(times) // 2] * 1e3:.2f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
