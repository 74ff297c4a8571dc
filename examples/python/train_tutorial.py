"""Train the tutorial's model in PyTorch for one epoch (its settings: sigmoid, SGD at lr
0.001, batch 32, pixels / 255), save its state_dict for `mnist-burn import`, and write its
predictions on the test images.   python train_tutorial.py MNIST_DIR OUT.pt OUT_CSV"""
import sys

import numpy as np
import torch

from tutorial_model import LogisticRegression, read_idx

mnist, out, predictions_out = sys.argv[1:4]
torch.manual_seed(0)
x = torch.from_numpy(read_idx(f"{mnist}/train/train-images-idx3-ubyte").reshape(-1, 784) / 255.0).float()
y = torch.from_numpy(read_idx(f"{mnist}/train/train-labels-idx1-ubyte").astype(np.int64))
model = LogisticRegression()
optimizer = torch.optim.SGD(model.parameters(), lr=0.001)
criterion = torch.nn.CrossEntropyLoss()
for batch in torch.randperm(len(x)).split(32):
    optimizer.zero_grad()
    criterion(model(x[batch]), y[batch]).backward()
    optimizer.step()
torch.save(model.state_dict(), out)

test = torch.from_numpy(read_idx(f"{mnist}/test/t10k-images-idx3-ubyte").reshape(-1, 784) / 255.0).float()
with torch.no_grad():
    predicted = model(test).argmax(dim=1).numpy()
np.savetxt(predictions_out, predicted, fmt="%d")
