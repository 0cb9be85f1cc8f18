"""Images for ``run.log_image``: PNG and JPEG bytes recognized by their magic bytes and their dimensions read
from their headers (no image library), numpy arrays written as PNG by hand (zlib only), PIL images through
PIL when one is passed, and class masks as 8- or 16-bit grayscale PNGs."""

from __future__ import annotations

import os
import struct
import sys
import zlib
from pathlib import Path
from typing import Any

from mltrail.errors import InvalidInputError

__all__ = ["MAX_SIDE", "encode_png", "image_bytes", "mask_bytes", "sniff_image"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
MAX_SIDE = 16_384
# JPEG start-of-frame markers (baseline, progressive, lossless…), which hold the height and width.
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def sniff_image(data: bytes, field: str = "image") -> tuple[str, int, int]:
    """``(mime, width, height)`` of PNG or JPEG ``data``; anything else is an ``InvalidInputError`` naming
    ``field``."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidInputError(f"{field} must be PNG or JPEG bytes", field=field)
    data = bytes(data)
    if data.startswith(PNG_SIGNATURE):
        width, height = _png_size(data, field)
        mime = "image/png"
    elif data.startswith(b"\xff\xd8\xff"):
        width, height = _jpeg_size(data, field)
        mime = "image/jpeg"
    else:
        raise InvalidInputError(
            f"{field} is not an image: PNG or JPEG bytes were expected, the data starts with {data[:8]!r}",
            field=field,
        )
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise InvalidInputError(
            f"{field} is {width}×{height} pixels; each side must be 1 to {MAX_SIDE:,}", field=field
        )
    return mime, width, height


def _png_size(data: bytes, field: str) -> tuple[int, int]:
    if len(data) < 33 or data[12:16] != b"IHDR" or struct.unpack(">I", data[8:12])[0] != 13:
        raise InvalidInputError(f"{field} is not a valid PNG: its header is missing", field=field)
    if zlib.crc32(data[12:29]) != struct.unpack(">I", data[29:33])[0]:
        raise InvalidInputError(f"{field} is not a valid PNG: its header is damaged", field=field)
    if not data.endswith(_PNG_END):
        raise InvalidInputError(f"{field} is not a complete PNG: it does not end with IEND", field=field)
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _jpeg_size(data: bytes, field: str) -> tuple[int, int]:
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            break
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            at += 2
            continue
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        if marker in _SOF and at + 9 <= len(data):
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return int(width), int(height)
        if marker == 0xDA or length < 2:  # scan data before any frame header: not an image we can read
            break
        at += 2 + length
    raise InvalidInputError(f"{field} is not a valid JPEG: no frame header with its size", field=field)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def encode_png(array: Any) -> bytes:
    """A uint8 (H×W, H×W×3 or H×W×4) or uint16 (H×W) numpy array as PNG bytes."""
    import numpy as np

    pixels = np.ascontiguousarray(array)
    height, width = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else int(pixels.shape[2])
    color = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    depth = 16 if pixels.dtype == np.uint16 else 8
    rows = pixels.astype(">u2" if depth == 16 else np.uint8).reshape(height, -1).view(np.uint8)
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rows], axis=1).tobytes()
    header = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 6))
        + _chunk(b"IEND", b"")
    )


def _array_pixels(array: Any, field: str) -> Any:
    """An image array as uint8: floats must lie in 0..1, integers in 0..255."""
    import numpy as np

    pixels = np.asarray(array)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] not in (3, 4)):
        raise InvalidInputError(
            f"{field} must be an H×W, H×W×3 or H×W×4 array, got shape {pixels.shape}", field=field
        )
    if pixels.size == 0:
        raise InvalidInputError(f"{field} has no pixels (shape {pixels.shape})", field=field)
    if not (0 < pixels.shape[0] <= MAX_SIDE and 0 < pixels.shape[1] <= MAX_SIDE):
        raise InvalidInputError(f"{field}: each side must be 1 to {MAX_SIDE:,} pixels", field=field)
    if pixels.dtype == np.bool_:
        return pixels.astype(np.uint8) * 255
    if np.issubdtype(pixels.dtype, np.floating):
        if not np.isfinite(pixels).all() or pixels.min() < 0.0 or pixels.max() > 1.0:
            raise InvalidInputError(f"{field}: float pixels must be finite and in 0..1", field=field)
        return np.rint(pixels * 255.0).astype(np.uint8)
    if np.issubdtype(pixels.dtype, np.integer):
        if pixels.dtype != np.uint8 and (pixels.min() < 0 or pixels.max() > 255):
            raise InvalidInputError(f"{field}: integer pixels must be in 0..255", field=field)
        return pixels.astype(np.uint8)
    raise InvalidInputError(f"{field}: pixels of type {pixels.dtype} are not supported", field=field)


def image_bytes(image: Any, field: str = "image") -> bytes:
    """PNG or JPEG bytes of ``image``: a numpy array (written as PNG), a PIL image (PNG), PNG or JPEG bytes,
    or the path of such a file. Anything that is not an image is refused here, naming ``field``."""
    if isinstance(image, bytes | bytearray | memoryview):
        data = bytes(image)
    elif isinstance(image, str | os.PathLike):
        path = Path(image)
        if not path.is_file():
            raise InvalidInputError(f"{field}: no file at {str(path)!r}", field=field)
        data = path.read_bytes()
    elif _is_pil(image):
        import io

        buffer = io.BytesIO()
        pil = image if image.mode in ("L", "RGB", "RGBA") else image.convert("RGBA")
        pil.save(buffer, format="PNG")
        data = buffer.getvalue()
    elif hasattr(image, "__array__") or isinstance(image, list):
        data = encode_png(_array_pixels(image, field))
    else:
        raise InvalidInputError(
            f"{field} must be a numpy array, a PIL image, PNG/JPEG bytes or a file path, "
            f"got {type(image).__name__}",
            field=field,
        )
    sniff_image(data, field)
    return data


def _is_pil(image: Any) -> bool:
    module = sys.modules.get("PIL.Image")  # PIL is never imported for this check
    return module is not None and isinstance(image, module.Image)


def mask_bytes(mask: Any, field: str = "masks") -> bytes:
    """A class mask (H×W integers ≥ 0, below 65,536) as a grayscale PNG: 8-bit when every class is below
    256, else 16-bit; PNG bytes are taken as they are."""
    import numpy as np

    if isinstance(mask, bytes | bytearray | memoryview):
        data = bytes(mask)
        mime, _, _ = sniff_image(data, field)
        if mime != "image/png":
            raise InvalidInputError(f"{field} must be a PNG of class numbers (JPEG is lossy)", field=field)
        return data
    classes = np.asarray(mask)
    if classes.ndim != 2 or classes.size == 0:
        raise InvalidInputError(f"{field} must be an H×W array of class numbers", field=field)
    if classes.dtype == np.bool_:
        classes = classes.astype(np.uint8)
    if not np.issubdtype(classes.dtype, np.integer):
        raise InvalidInputError(f"{field} must hold integer class numbers, got {classes.dtype}", field=field)
    if classes.min() < 0 or classes.max() >= 65_536:
        raise InvalidInputError(f"{field}: class numbers must be in 0..65535", field=field)
    return encode_png(classes.astype(np.uint8 if classes.max() < 256 else np.uint16))
