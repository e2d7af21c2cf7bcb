"""Small data files in the published formats of the real datasets (see DATA_FORMATS.md)."""

import io
import json
import tarfile

from PIL import Image

from biasamp.config import validate_entry

# --- COCO captions (pycocotools JSON, image folders) ---

TRAIN = {  # image id -> captions, in annotation-id order
    1: ["A man riding a wave on a surfboard.", "A surfer in the ocean."],
    2: ["A woman cutting a cake.", "Two women at a party with a cake."],
    3: ["A person holding an umbrella.", "Someone walking in the rain."],
    4: ["A man and a woman on a bench.", "Two people sitting."],
    5: ["A girl flying a kite.", "A child with a kite on the beach."],
    6: ["A dog catching a frisbee.", "A frisbee in the park."],
    7: ["A boy on a skateboard.", "A kid doing a trick."],
}
VAL = {101: ["A man using a laptop.", "A guy at a desk."],
       102: ["A woman with a handbag.", "A lady shopping."],
       103: ["A person on a horse.", "A rider in a field."]}
CORRUPT = 6


def write_split(root, part, images):
    folder = root / f"{part}2014"
    folder.mkdir(parents=True)
    entries, annotations = [], []
    for image_id, captions in images.items():
        name = f"COCO_{part}2014_{image_id:012d}.jpg"
        entries.append({"id": image_id, "file_name": name, "height": 24, "width": 32})
        if image_id == CORRUPT:
            (folder / name).write_bytes(b"\xff\xd8\xff not really a jpeg")
        else:
            Image.new("RGB", (32, 24), (image_id * 20 % 255, 90, 160)).save(folder / name)
        for caption in captions:
            annotations.append({"id": len(annotations) + 1000 * image_id, "image_id": image_id,
                                "caption": caption})
    annotations.reverse()  # file order is not annotation-id order
    (root / "annotations" / f"captions_{part}2014.json").write_text(json.dumps(
        {"images": entries, "annotations": annotations, "info": {}, "licenses": []}))


CATEGORIES = [{"id": 1, "name": "person", "supercategory": "person"},
              {"id": 18, "name": "dog", "supercategory": "animal"},
              {"id": 61, "name": "cake", "supercategory": "food"}]


def write_instances(root, part, objects):
    """``annotations/instances_{part}2014.json``: image id -> category ids annotated in it."""
    images = json.loads((root / "annotations" / f"captions_{part}2014.json").read_text())
    annotations = [{"id": 10 * image_id + k, "image_id": image_id, "category_id": category,
                    "bbox": [0, 0, 4, 4], "area": 16.0, "iscrowd": 0}
                   for image_id, categories in objects.items()
                   for k, category in enumerate(categories)]
    (root / "annotations" / f"instances_{part}2014.json").write_text(json.dumps(
        {"images": images["images"], "annotations": annotations, "categories": CATEGORIES,
         "info": {}, "licenses": []}))


# --- FairFace and region-labelled CSVs ---

FAIRFACE = """file,age,gender,race,service_test
val/1.jpg,3-9,Male,East Asian,False
val/2.jpg,50-59,Female,Latino_Hispanic,True
val/3.jpg,more than 70,Female,Black,False
val/4.jpg,20-29,Male,Middle Eastern,True
"""
REGIONS = """file,region,gender,country
img/a.jpg,Africa,Woman,Nigeria
img/b.jpg,Europe,man,Italy
img/c.jpg,Africa,,Kenya
img/d.jpg,EastAsia,unsure,Japan
"""


def write_tree(root, table: str, csv_name: str):
    (root / csv_name).write_text(table)
    for i, line in enumerate(table.splitlines()[1:]):
        path = root / line.split(",")[0]
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (24, 24), (40 * i, 90, 200 - 40 * i)).save(path)
    return root / csv_name


def fairface_labels(root):
    """A FairFace tree (label_val.csv and val/*.jpg) under ``root``; the CSV's path."""
    root.mkdir(parents=True, exist_ok=True)
    return write_tree(root, FAIRFACE, "label_val.csv")


# --- PHASE annotations ---

ANNOTATIONS = {
    "1001": {"caption": "actor attends the premiere",
             "p1": {"annotations": {"age": "adult", "gender": "male", "skintone": "darker",
                                    "ethnicity": "black"}}},
    "1002": {"caption": "a mother with her baby",
             "p1": {"annotations": {"age": "adult", "gender": "female", "skintone": "lighter",
                                    "ethnicity": "white"}},
             "p2": {"annotations": {"age": "baby", "gender": "unsure", "skintone": "lighter",
                                    "ethnicity": "white"}}},
    "1003": {"caption": "kids playing football",
             "p1": {"annotations": {"age": "children", "gender": "male", "skintone": "lighter",
                                    "ethnicity": "latino"}},
             "p2": {"annotations": {"age": "baby", "gender": "male", "skintone": "darker",
                                    "ethnicity": "latino"}}},
}


def phase_entry(tmp_path, **overrides):
    """A PHASE tree (annotation JSON, images) under ``tmp_path``; its evaluation-set entry."""
    (tmp_path / "anns.json").write_text(json.dumps(ANNOTATIONS))
    (tmp_path / "images").mkdir(exist_ok=True)
    for image_id in ANNOTATIONS:
        Image.new("RGB", (20, 20), (10, 20, 30)).save(tmp_path / "images" / f"{image_id}.jpg")
    entry = {"kind": "phase", "annotations": str(tmp_path / "anns.json"),
             "images": str(tmp_path / "images"), **overrides}
    return validate_entry("evaluation.sets", "phase", entry)


# --- CC3M webdataset shards (img2dataset) ---

CAPTIONS = ["a man riding a horse", "actor attends the premiere", "her new dress",
            "the view from a hotel room", "a boy and his mother"]


def add(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def write_shard(path, start, n, failed=()):
    with tarfile.open(path, "w") as tar:
        for i in range(start, start + n):
            key = f"{i:09d}"
            status = "failed_to_download" if i in failed else "success"
            add(tar, f"{key}.json", json.dumps({"url": f"http://x/{i}.jpg",
                                                "status": status}).encode())
            if i in failed:
                continue
            buffer = io.BytesIO()
            Image.new("RGB", (16, 12), (i * 40 % 256, 10, 200)).save(buffer, "JPEG")
            add(tar, f"{key}.jpg", buffer.getvalue())
            add(tar, f"{key}.txt", CAPTIONS[i % len(CAPTIONS)].encode())
