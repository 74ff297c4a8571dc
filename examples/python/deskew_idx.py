"""Deskew an MNIST images IDX file the way mnist-burn does (`data.deskew = true`), into a
new IDX file with the same header.   python deskew_idx.py IMAGES OUT"""
import sys

from tutorial_model import deskew, read_idx

images_path, out = sys.argv[1:3]
header = open(images_path, "rb").read(16)
with open(out, "wb") as file:
    file.write(header + deskew(read_idx(images_path)).tobytes())
