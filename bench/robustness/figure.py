"""The figure of docs/pictures.md: pictures as people send them, and the 28x28 the model saw.

  python figure.py ANSWERS OUT.png

ANSWERS: the lines of `mnist-burn predict --json RUN FILE...` (each names its file and holds
the 784 pixels the model saw). Each column shows a file as it is stored (transparency over a
checkerboard, EXIF orientation not applied: what a program that ignores both gets), then the
model's input, captioned with the answer.
"""

import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

CELL = 140
CAPTION = 34


def stored(path):
    """The file's pixels as stored, transparency shown over a grey checkerboard."""
    image = Image.open(path)
    image.load()
    image = image.convert("RGBA")
    image.thumbnail((CELL, CELL))
    board = Image.new("RGBA", image.size, (255, 255, 255, 255))
    draw = ImageDraw.Draw(board)
    for y in range(0, image.size[1], 10):
        for x in range(0, image.size[0], 10):
            if (x // 10 + y // 10) % 2:
                draw.rectangle([x, y, x + 9, y + 9], fill=(200, 200, 200, 255))
    return Image.alpha_composite(board, image).convert("RGB")


def seen(pixels):
    """The model's 28x28 input (MNIST's way: light ink on black), enlarged."""
    grid = np.asarray(pixels, dtype=np.float32).reshape(28, 28)
    grid = (255 * (grid - grid.min()) / max(float(grid.max() - grid.min()), 1e-6)).astype(np.uint8)
    return Image.fromarray(grid, "L").resize((CELL, CELL), Image.NEAREST).convert("RGB")


def main():
    answers = [json.loads(line) for line in Path(sys.argv[1]).read_text().splitlines() if line.strip()]
    width = len(answers) * (CELL + 10) + 10
    figure = Image.new("RGB", (width, 2 * CELL + 2 * CAPTION + 20), "white")
    draw = ImageDraw.Draw(figure)
    for column, answer in enumerate(answers):
        x = 10 + column * (CELL + 10)
        path = Path(answer["file"])
        picture = stored(path)
        figure.paste(picture, (x + (CELL - picture.size[0]) // 2, 10 + (CELL - picture.size[1]) // 2))
        draw.text((x, CELL + 14), f"{path.parent.name}/{path.suffix[1:]}", fill="black")
        figure.paste(seen(answer["input"]), (x, CELL + CAPTION + 10))
        label = answer["label"] + (" (unsure)" if answer.get("unsure_between") else "")
        draw.text((x, 2 * CELL + CAPTION + 14), f"model saw; reads {label}", fill="black")
    figure.save(sys.argv[2])


if __name__ == "__main__":
    main()
