"""The peer: PyTorch's own example VAE (pytorch/examples, ``vae/main.py``, its classic form), with the fewest changes.

As written there: an MLP 784-400-20 (ReLU), mirrored, sigmoid output; the loss BCE summed
over pixels + KL summed, per batch; ``z = mu + eps * exp(0.5 logvar)``; Adam 1e-3; batch 128;
10 epochs over all 60,000 training images (shuffled), the test set's loss printed after each
epoch, 8 reconstructions and 64 samples saved as PNGs after each epoch; seed 1.

What changed, and why:

1. ``datasets.MNIST('../data', train=..., download=True, transform=transforms.ToTensor())``
   -> the same images read from the four IDX files in ``--data-dir`` into a ``TensorDataset``
   of float tensors in [0, 1], shaped (N, 1, 28, 28) as ``ToTensor`` makes them: the machine
   has no internet, and torchvision's loader only reads the files it downloaded itself.
2. ``--data-dir`` and ``--results`` (the folder for the PNGs, made if absent; the example
   assumes its repository's ``results/``) are added; CUDA handling is kept as written.
3. The last line printed is one JSON object: the last epoch's test loss (the test -ELBO with one
   sampled z per image, as ``vae train`` reports its test loss) and the median seconds per
   epoch; the bench times the whole process from outside.

    python tests/benchmarks/pytorch_vae.py --data-dir ../shared/datasets --seed 1
"""

import argparse
import gzip
import json
import os
import time

import numpy as np
import torch
import torch.utils.data
from torch import nn, optim
from torch.nn import functional as F
from torchvision.utils import save_image

parser = argparse.ArgumentParser(description="VAE MNIST Example")
parser.add_argument(
    "--batch-size", type=int, default=128, metavar="N", help="input batch size for training (default: 128)"
)
parser.add_argument("--epochs", type=int, default=10, metavar="N", help="number of epochs to train (default: 10)")
parser.add_argument("--no-cuda", action="store_true", default=False, help="disables CUDA training")
parser.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (default: 1)")
parser.add_argument(
    "--log-interval", type=int, default=10, metavar="N", help="how many batches to wait before logging training status"
)
parser.add_argument("--data-dir", required=True, help="the folder of the four MNIST IDX files (.gz)")
parser.add_argument("--results", default="results", help="where the reconstructions and samples go")
args = parser.parse_args()
args.cuda = not args.no_cuda and torch.cuda.is_available()

torch.manual_seed(args.seed)

device = torch.device("cuda" if args.cuda else "cpu")
os.makedirs(args.results, exist_ok=True)


def idx_images(name):
    with gzip.open(os.path.join(args.data_dir, name), "rb") as f:
        data = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    return torch.utils.data.TensorDataset(torch.from_numpy(data.astype(np.float32) / 255.0), torch.zeros(len(data)))


kwargs = {"num_workers": 1, "pin_memory": True} if args.cuda else {}
train_loader = torch.utils.data.DataLoader(
    idx_images("train-images-idx3-ubyte.gz"), batch_size=args.batch_size, shuffle=True, **kwargs
)
test_loader = torch.utils.data.DataLoader(
    idx_images("t10k-images-idx3-ubyte.gz"), batch_size=args.batch_size, shuffle=False, **kwargs
)


class VAE(nn.Module):
    def __init__(self):
        super(VAE, self).__init__()

        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


model = VAE().to(device)
optimizer = optim.Adam(model.parameters(), lr=1e-3)


# Reconstruction + KL divergence losses summed over all elements and batch
def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")

    # see Appendix B from VAE paper:
    # Kingma and Welling. Auto-Encoding Variational Bayes. ICLR, 2014
    # https://arxiv.org/abs/1312.6114
    # 0.5 * sum(1 + log(sigma^2) - mu^2 - sigma^2)
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())

    return BCE + KLD


def train(epoch):
    model.train()
    train_loss = 0
    for batch_idx, (data, _) in enumerate(train_loader):
        data = data.to(device)
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            print(
                "Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}".format(
                    epoch,
                    batch_idx * len(data),
                    len(train_loader.dataset),
                    100.0 * batch_idx / len(train_loader),
                    loss.item() / len(data),
                )
            )

    print("====> Epoch: {} Average loss: {:.4f}".format(epoch, train_loss / len(train_loader.dataset)))


def test(epoch):
    model.eval()
    test_loss = 0
    with torch.no_grad():
        for i, (data, _) in enumerate(test_loader):
            data = data.to(device)
            recon_batch, mu, logvar = model(data)
            test_loss += loss_function(recon_batch, data, mu, logvar).item()
            if i == 0:
                n = min(data.size(0), 8)
                comparison = torch.cat([data[:n], recon_batch.view(args.batch_size, 1, 28, 28)[:n]])
                save_image(
                    comparison.cpu(), os.path.join(args.results, "reconstruction_" + str(epoch) + ".png"), nrow=n
                )

    test_loss /= len(test_loader.dataset)
    print("====> Test set loss: {:.4f}".format(test_loss))
    return test_loss


if __name__ == "__main__":
    epoch_seconds = []
    for epoch in range(1, args.epochs + 1):
        began = time.perf_counter()
        train(epoch)
        test_loss = test(epoch)
        with torch.no_grad():
            sample = torch.randn(64, 20).to(device)
            sample = model.decode(sample).cpu()
            save_image(sample.view(64, 1, 28, 28), os.path.join(args.results, "sample_" + str(epoch) + ".png"))
        epoch_seconds.append(time.perf_counter() - began)
    print(
        json.dumps(
            {
                "test_loss": test_loss,
                "seconds_per_epoch": float(np.median(epoch_seconds)),
                "epochs": args.epochs,
            }
        )
    )
