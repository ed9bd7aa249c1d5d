"""Generative instruction edits: content-level edits from local diffusers editing pipelines.

Install the extra (``pip install 'redaes[generative]'``) and point at a local pipeline folder
(``save_pretrained`` output; nothing is downloaded)::

    from redaes.edits import create_edit
    from redaes.edits.generative import configure_generative, register_generative_ops

    register_generative_ops()                       # gen:<id> for every library instruction
    configure_generative("models/instruct-pix2pix")  # the pipeline rendering them
    warmer = create_edit("gen:golden_hour").apply_pil(photo, 0.6, seed=1)

Importing this package does not import ``diffusers``; loading a pipeline does. See
``docs/generative.md`` for the strength mapping, the guard and the re-render guarantee.
"""

from redaes.edits.generative.adapters import (
    ADAPTERS,
    INSTALL_HINT,
    EditControls,
    GenericAdapter,
    InstructPix2PixAdapter,
    PipelineAdapter,
    PipelineUnavailable,
    StrengthMapping,
    load_adapter,
    pipeline_class_name,
    require_diffusers,
    weights_id,
)
from redaes.edits.generative.guard import ContentGuard, luminance_ssim
from redaes.edits.generative.library import (
    INSTRUCTION_FAMILIES,
    Instruction,
    InstructionLibrary,
    load_library,
    parse_library,
)
from redaes.edits.generative.ops import (
    GenerativeConfig,
    GenerativeOp,
    active_config,
    configure_generative,
    generative_records,
    generative_weights,
    get_adapter,
    is_generative,
    register_generative_ops,
    rerender_row,
    unregister_generative_ops,
)

__all__ = [
    "ADAPTERS",
    "INSTALL_HINT",
    "INSTRUCTION_FAMILIES",
    "ContentGuard",
    "EditControls",
    "GenerativeConfig",
    "GenerativeOp",
    "GenericAdapter",
    "InstructPix2PixAdapter",
    "Instruction",
    "InstructionLibrary",
    "PipelineAdapter",
    "PipelineUnavailable",
    "StrengthMapping",
    "active_config",
    "configure_generative",
    "generative_records",
    "generative_weights",
    "get_adapter",
    "is_generative",
    "load_adapter",
    "load_library",
    "luminance_ssim",
    "parse_library",
    "pipeline_class_name",
    "register_generative_ops",
    "require_diffusers",
    "rerender_row",
    "unregister_generative_ops",
    "weights_id",
]
