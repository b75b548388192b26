#!/usr/bin/python3
"""models/train.py's training file list: train_exclude leaves the named images out of train_dirs
and refuses a name that is in none of them (exit 77, a skip, without python3-torch)."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models"))
try:
    import train
except ImportError as e:
    print("skipped: %s" % e)
    sys.exit(77)

with tempfile.TemporaryDirectory() as tmp:
    dirs = [os.path.join(tmp, "d1"), os.path.join(tmp, "d2")]
    for d, names in zip(dirs, (["a.png", "b.png", "notes.txt"], ["c.jpg"])):
        os.makedirs(d)
        for n in names:
            open(os.path.join(d, n), "w").close()
    cfg = {"train_dirs": dirs, "train_exclude": []}
    names = lambda: [os.path.basename(f) for f in train.training_files(cfg)]  # noqa: E731
    assert names() == ["a.png", "b.png", "c.jpg"], names()
    cfg["train_exclude"] = ["b.png"]
    assert names() == ["a.png", "c.jpg"], names()
    cfg["train_exclude"] = ["b.png", "12003.jpg"]
    try:
        names()
        raise AssertionError("an exclusion that matches nothing was accepted")
    except SystemExit as e:
        assert str(e) == "train_exclude: 12003.jpg is in none of train_dirs", str(e)
print("ok")
