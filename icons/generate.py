#!/usr/bin/env python3
"""Generates Switchboard's icons: the app icon and three tray variants (all running / some failed /
not all running). A "patch panel" glyph: three cords with jacks, the middle jack showing the state.
Drawn with 4x4 supersampling so edges stay smooth at tray sizes; a light rim keeps the dark tile
visible on dark panels. Run it from anywhere; it writes next to itself. Standard library only."""

import math
import struct
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
SS = 4  # supersampling factor


def png(width, height, rgba):
    raw = b"".join(b"\x00" + bytes(rgba[y * width * 4:(y + 1) * width * 4]) for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def sample(fx, fy, tile, rim, dot):
    """Colour and coverage of one subsample at (fx, fy) in [0, 1)^2."""
    radius = 0.22
    cx, cy = min(max(fx, radius), 1 - radius), min(max(fy, radius), 1 - radius)
    edge = math.hypot(fx - cx, fy - cy)
    if edge > radius:
        return None
    colour = rim if edge > radius - 0.035 else tile
    for i, y in enumerate((0.3, 0.5, 0.7)):
        jack_x = (0.35, 0.65, 0.45)[i]
        if abs(fy - y) < 0.045 and 0.2 < fx < 0.8:
            colour = (255, 255, 255)
        if math.hypot(fx - jack_x, fy - y) < (0.1 if i == 1 else 0.085):
            colour = dot if i == 1 else (255, 255, 255)
    return colour


def icon(size, tile, rim, dot):
    out = []
    for y in range(size):
        for x in range(size):
            acc = [0, 0, 0]
            hits = 0
            for sy in range(SS):
                for sx in range(SS):
                    c = sample((x + (sx + 0.5) / SS) / size, (y + (sy + 0.5) / SS) / size, tile, rim, dot)
                    if c:
                        hits += 1
                        for k in range(3):
                            acc[k] += c[k]
            if hits:
                out += [round(acc[0] / hits), round(acc[1] / hits), round(acc[2] / hits), round(255 * hits / SS**2)]
            else:
                out += [0, 0, 0, 0]
    return png(size, size, out)


def main():
    accent, white = (52, 84, 209), (255, 255, 255)
    for size, name in ((32, "32x32.png"), (128, "128x128.png"), (512, "icon.png")):
        (HERE / name).write_bytes(icon(size, accent, (88, 116, 230), white))
    tile, rim = (38, 42, 51), (120, 128, 142)
    for name, dot in (("running", (46, 204, 113)), ("degraded", (231, 76, 60)), ("stopped", (160, 172, 178))):
        (HERE / f"tray-{name}.png").write_bytes(icon(64, tile, rim, dot))


if __name__ == "__main__":
    main()
