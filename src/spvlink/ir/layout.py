"""Opcode knowledge: the Logical Layout sections and the classes of instructions.

No other module matches raw opcode numbers; they ask here (or use `spec.Op` names).
"""

from __future__ import annotations

from enum import IntEnum

from ..grammar.walk import EXT_INST_OPCODES as EXT_INST_OPCODES  # the walk, below ir, needs it too
from ..spec import Op


class Section(IntEnum):
    """The spec's Logical Layout of a module, in order."""

    CAPABILITY = 0
    EXTENSION = 1
    EXT_INST_IMPORT = 2
    MEMORY_MODEL = 3
    ENTRY_POINT = 4
    EXECUTION_MODE = 5
    DEBUG_STRING = 6  # OpString, OpSource*, OpSourceExtension
    DEBUG_NAME = 7  # OpName, OpMemberName
    DEBUG_MODULE_PROCESSED = 8
    ANNOTATION = 9
    GLOBAL = 10  # types, constants, global variables, OpUndef, OpLine, non-semantic OpExtInst
    FUNCTION = 11


SECTION_OF_OPCODE: dict[int, Section] = {
    Op.Capability: Section.CAPABILITY,
    Op.Extension: Section.EXTENSION,
    Op.ExtInstImport: Section.EXT_INST_IMPORT,
    Op.MemoryModel: Section.MEMORY_MODEL,
    Op.EntryPoint: Section.ENTRY_POINT,
    Op.ExecutionMode: Section.EXECUTION_MODE,
    Op.ExecutionModeId: Section.EXECUTION_MODE,
    Op.String: Section.DEBUG_STRING,
    Op.SourceExtension: Section.DEBUG_STRING,
    Op.Source: Section.DEBUG_STRING,
    Op.SourceContinued: Section.DEBUG_STRING,
    Op.Name: Section.DEBUG_NAME,
    Op.MemberName: Section.DEBUG_NAME,
    Op.ModuleProcessed: Section.DEBUG_MODULE_PROCESSED,
    Op.Decorate: Section.ANNOTATION,
    Op.MemberDecorate: Section.ANNOTATION,
    Op.DecorationGroup: Section.ANNOTATION,
    Op.GroupDecorate: Section.ANNOTATION,
    Op.GroupMemberDecorate: Section.ANNOTATION,
    Op.DecorateId: Section.ANNOTATION,
    Op.DecorateString: Section.ANNOTATION,
    Op.MemberDecorateString: Section.ANNOTATION,
    Op.Function: Section.FUNCTION,
}

DECORATION_OPCODES = frozenset({
    Op.Decorate, Op.MemberDecorate, Op.DecorateId, Op.DecorateString, Op.MemberDecorateString,
})
LINE_OPCODES = frozenset({Op.Line, Op.NoLine})
# Scalar types with a width: the width of literals typed by them.
NUMERIC_TYPE_OPCODES = frozenset({Op.TypeInt, Op.TypeFloat})
# Constants whose literal takes its width from the result type.
TYPED_LITERAL_OPCODES = frozenset({Op.Constant, Op.SpecConstant})
NAME_OPCODES = frozenset({Op.Name, Op.MemberName})
# Instructions whose layout depends on the instructions before them: an OpExtInst's
# operands on the set its OpExtInstImport names (decoded in order only).
ORDER_DEPENDENT_OPCODES = frozenset({Op.ExtInstImport, *EXT_INST_OPCODES})
# Instructions whose layout depends on other instructions' content (a literal's width,
# an extended set): a layout learnt from one of them holds for it alone.
CONTEXT_DEPENDENT_OPCODES = frozenset({*EXT_INST_OPCODES, *TYPED_LITERAL_OPCODES, Op.Switch})
# The commonest instructions that carry a string (names, linkage decorations): the
# reader plans them from the word count, without the grammar walk.
COMMON_STRING_OPCODES = frozenset({Op.Name, Op.MemberName, Op.Decorate})

TYPE_OPCODES = frozenset({
    Op.TypeVoid, Op.TypeBool, Op.TypeInt, Op.TypeFloat, Op.TypeVector, Op.TypeMatrix,
    Op.TypeImage, Op.TypeSampler, Op.TypeSampledImage, Op.TypeArray, Op.TypeRuntimeArray,
    Op.TypeStruct, Op.TypeOpaque, Op.TypePointer, Op.TypeFunction, Op.TypeEvent,
    Op.TypeDeviceEvent, Op.TypeReserveId, Op.TypeQueue, Op.TypePipe, Op.TypeForwardPointer,
    Op.TypePipeStorage, Op.TypeNamedBarrier, Op.TypeAccelerationStructureKHR,
    Op.TypeRayQueryKHR, Op.TypeCooperativeMatrixKHR, Op.TypeCooperativeMatrixNV,
    Op.TypeHitObjectNV, Op.TypeUntypedPointerKHR, Op.TypeTensorARM,
    Op.TypeCooperativeVectorNV, Op.TypeStructContinuedINTEL, Op.TypeBufferSurfaceINTEL,
    Op.TypeAvcImePayloadINTEL,
})

CONSTANT_OPCODES = frozenset({
    Op.ConstantTrue, Op.ConstantFalse, Op.Constant, Op.ConstantComposite,
    Op.ConstantSampler, Op.ConstantNull, Op.SpecConstantTrue, Op.SpecConstantFalse,
    Op.SpecConstant, Op.SpecConstantComposite, Op.SpecConstantOp,
    Op.ConstantCompositeReplicateEXT, Op.SpecConstantCompositeReplicateEXT,
})


# Instructions without side effects: removable inside a live function when unused.
# (Conservative: only arithmetic, conversions, composites and access chains.)
PURE_CLASSES = frozenset({
    "Arithmetic", "Bit", "Relational_and_Logical", "Conversion", "Composite",
})
PURE_EXTRA = frozenset({
    Op.AccessChain, Op.InBoundsAccessChain, Op.PtrAccessChain, Op.InBoundsPtrAccessChain,
    Op.Undef, Op.CopyObject, Op.Select,
})


class Word:
    """Word offsets of operands within an instruction (word 0 is the header word)."""

    RESULT_TYPE = 1  # of instructions that have one
    TYPE_RESULT = 1  # the result id of a type (types have no result type)
    TYPE_WIDTH = 2  # OpTypeInt / OpTypeFloat width
    INT_SIGNEDNESS = 3  # OpTypeInt signedness
    CONSTANT_VALUE = 3  # OpConstant / OpSpecConstant literal, low-order word first
    NAME_TARGET = 1  # OpName / OpMemberName / OpDecorate* target
    NAME_STRING = 2  # OpName string
    MEMBER_NAME_STRING = 3  # OpMemberName string (after the member index)
    DECORATION = 2  # OpDecorate decoration
    DECORATION_ARGS = 3  # OpDecorate decoration operands
    EXT_INST_IMPORT_RESULT = 1
    EXT_INST_IMPORT_NAME = 2  # OpExtInstImport set name
    EXT_INST_SET = 3  # OpExtInst set id
    EXT_INST_NUMBER = 4  # OpExtInst instruction number
    SWITCH_SELECTOR = 1  # OpSwitch selector id
    STRING_OPERAND = 1  # OpExtension / OpSourceExtension / OpModuleProcessed string
    CAPABILITY = 1  # OpCapability's capability
    ADDRESSING_MODEL = 1  # OpMemoryModel
    MEMORY_MODEL = 2
    ENTRY_MODEL = 1  # OpEntryPoint execution model
    ENTRY_FUNCTION = 2
    ENTRY_NAME = 3
    MEMBER_DECORATION = 3  # OpMemberDecorate decoration (after the member index)
    FORWARD_POINTER = 1  # OpTypeForwardPointer's pointer type id
    POINTER_STORAGE = 2  # OpTypePointer storage class
    POINTER_TYPE = 3  # OpTypePointer pointee
    ARRAY_ELEMENT = 2  # OpTypeArray / OpTypeRuntimeArray element type
    ARRAY_LENGTH = 3  # OpTypeArray length constant
    FUNCTION_TYPE_RETURN = 2  # OpTypeFunction return type
    FUNCTION_TYPE_PARAMS = 3  # OpTypeFunction parameter types
    VARIABLE_STORAGE = 3  # OpVariable storage class
    VARIABLE_INITIALIZER = 4
    FUNCTION_CONTROL = 3  # OpFunction function control
    FUNCTION_TYPE = 4  # OpFunction function type
    CALLEE = 3  # OpFunctionCall function
    CALL_ARGS = 4
