"""A quick probe of regularisers for the `best` recipe, in PyTorch.

The same job as `tapegrad train --data mnist:DIR --recipe best --augment none` (h=800, ReLU,
weights N(0, 0.01) and zero biases, mean image subtracted, Adam 1e-3 with one warm-up epoch and
a cosine schedule over the steps, batch 128, dropout 0.2, label smoothing 0.1, an exponential
moving average of the weights with decay min(0.999, (1+t)/(10+t)) validated after every epoch),
with one switch per regulariser that tapegrad does not have, so that a candidate can be tried in
about 80 s per 40 epochs on two cores before it is built. Prints the best validation accuracy
(the last 5,000 training images) and the test accuracy at that epoch. Picks nothing on the test
set: read the validation column.

usage: python recipe_probe.py [--data /usr/share/datasets/fashion-mnist] [--epochs 40]
           [--seed 0] [--mixup ALPHA] [--erase P] [--sam RHO] [--wd DECAY] [--init torch]
           [--act relu|gelu|silu] [--flip P --tta] [--std none|global|feature] [--power G]
           [--noise SIGMA] [--contrast C] [--dropout P] [--ls E]
Run it in the peers' environment (benches/peers/venv.sh makes it).
"""
import argparse, gzip, math, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('--data', default='/usr/share/datasets/fashion-mnist')
p.add_argument('--epochs', type=int, default=40)
p.add_argument('--seed', type=int, default=0)
p.add_argument('--lr', type=float, default=1e-3)
p.add_argument('--dropout', type=float, default=0.2)
p.add_argument('--ls', type=float, default=0.1, help='label smoothing')
p.add_argument('--ema', type=float, default=0.999)
p.add_argument('--mixup', type=float, default=0.0, help='mixup: lambda ~ Beta(a, a)')
p.add_argument('--erase', type=float, default=0.0, help='random erasing: probability')
p.add_argument('--erase-max', type=float, default=0.25, help='random erasing: largest area')
p.add_argument('--sam', type=float, default=0.0, help='sharpness-aware minimisation: rho')
p.add_argument('--wd', type=float, default=0.0, help='decoupled weight decay (AdamW)')
p.add_argument('--init', default='std', help="std: N(0, 0.01); torch: PyTorch's default")
p.add_argument('--act', default='relu')
p.add_argument('--flip', type=float, default=0.0, help='mirror with this probability')
p.add_argument('--tta', action='store_true', help='average the mirrored image at evaluation')
p.add_argument('--std', default='none', help='standardisation after the mean image')
p.add_argument('--power', type=float, default=1.0, help='pixels ** power before the mean')
p.add_argument('--noise', type=float, default=0.0, help='Gaussian input noise')
p.add_argument('--contrast', type=float, default=0.0, help='scale each image by U(1-c, 1+c)')
p.add_argument('--batch', type=int, default=128)
p.add_argument('--hidden', type=int, default=800)
a = p.parse_args()
torch.set_num_threads(2)
torch.manual_seed(a.seed)
rng = np.random.default_rng(a.seed)


def idx(name, offset):
    with gzip.open(f'{a.data}/{name}') as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


X = (idx('train-images-idx3-ubyte.gz', 16).reshape(-1, 784) / 255.0).astype(np.float32) ** a.power
Y = idx('train-labels-idx1-ubyte.gz', 8).astype(np.int64)
Xt = (idx('t10k-images-idx3-ubyte.gz', 16).reshape(-1, 784) / 255.0).astype(np.float32) ** a.power
Yt = idx('t10k-labels-idx1-ubyte.gz', 8).astype(np.int64)
Xtr, Ytr, Xv, Yv = X[:-5000], Y[:-5000], X[-5000:], Y[-5000:]
mean = Xtr.mean(0)
sd = np.ones(784, np.float32)
if a.std == 'global':
    sd[:] = (Xtr - mean).std()
elif a.std == 'feature':
    sd = np.maximum((Xtr - mean).std(0), 0.1 * (Xtr - mean).std()).astype(np.float32)
mean_t, sd_t = torch.from_numpy(mean), torch.from_numpy(sd)
raw_train, Ytr_t = torch.from_numpy(Xtr), torch.from_numpy(Ytr)
Xv_t, Yv_t = (torch.from_numpy(Xv) - mean_t) / sd_t, torch.from_numpy(Yv)
Xt_t, Yt_t = (torch.from_numpy(Xt) - mean_t) / sd_t, torch.from_numpy(Yt)

act = {'relu': nn.ReLU(), 'gelu': nn.GELU(), 'silu': nn.SiLU()}[a.act]
net = nn.Sequential(nn.Linear(784, a.hidden), act, nn.Dropout(a.dropout), nn.Linear(a.hidden, 10))
if a.init == 'std':
    for m in net:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)
ema = [q.detach().clone() for q in net.parameters()]
opt = (torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=a.wd) if a.wd
       else torch.optim.Adam(net.parameters(), lr=a.lr))
n = len(Xtr)
per_epoch = math.ceil(n / a.batch)
total, warm = per_epoch * a.epochs, per_epoch


def lr_at(t):
    if t < warm:
        return a.lr * (t + 1) / warm
    return a.lr * 0.5 * (1 + math.cos(math.pi * (t - warm) / max(1, total - warm)))


def mirrored(x):
    return ((x * sd_t + mean_t).view(-1, 28, 28).flip(2).reshape(-1, 784) - mean_t) / sd_t


def accuracy(x, y):
    saved = [q.detach().clone() for q in net.parameters()]
    with torch.no_grad():
        for q, e in zip(net.parameters(), ema):
            q.copy_(e)
        net.eval()
        prob = F.softmax(net(x), 1)
        if a.tta:
            prob = prob + F.softmax(net(mirrored(x)), 1)
        acc = (prob.argmax(1) == y).float().mean().item()
        net.train()
        for q, s in zip(net.parameters(), saved):
            q.copy_(s)
    return acc


def erase(x):
    x = x.view(-1, 28, 28)
    for i in np.nonzero(rng.random(len(x)) < a.erase)[0]:
        area = rng.uniform(0.02, a.erase_max) * 784
        ratio = math.exp(rng.uniform(math.log(0.3), math.log(3.3)))
        h, w = int(round(math.sqrt(area * ratio))), int(round(math.sqrt(area / ratio)))
        if h < 28 and w < 28:
            y0, x0 = rng.integers(0, 29 - h), rng.integers(0, 29 - w)
            x[i, y0:y0 + h, x0:x0 + w] = 0
    return x.view(-1, 784)


t, best, start = 0, (0.0, 0.0, 0), time.time()
for epoch in range(a.epochs):
    order = torch.from_numpy(rng.permutation(n))
    for s in range(per_epoch):
        rows = order[s * a.batch:(s + 1) * a.batch]
        xb, yb = raw_train[rows].clone(), Ytr_t[rows]
        if a.flip:
            f = torch.from_numpy(rng.random(len(rows)) < a.flip)
            xb[f] = xb[f].view(-1, 28, 28).flip(2).reshape(-1, 784)
        if a.erase:
            xb = erase(xb)
        if a.contrast:
            xb = xb * torch.from_numpy(rng.uniform(1 - a.contrast, 1 + a.contrast, (len(rows), 1)).astype(np.float32))
        xb = (xb - mean_t) / sd_t
        if a.noise:
            xb = xb + a.noise * torch.randn_like(xb)
        lam, other = None, None
        if a.mixup:
            other = torch.randperm(len(rows))
            lam = float(rng.beta(a.mixup, a.mixup))
            xb = lam * xb + (1 - lam) * xb[other]

        def loss():
            out = net(xb)
            if lam is None:
                return F.cross_entropy(out, yb, label_smoothing=a.ls)
            return (lam * F.cross_entropy(out, yb, label_smoothing=a.ls)
                    + (1 - lam) * F.cross_entropy(out, yb[other], label_smoothing=a.ls))

        for g in opt.param_groups:
            g['lr'] = lr_at(t)
        opt.zero_grad()
        loss().backward()
        if a.sam:  # step to the worst point within rho, take its gradient there, step back
            params = list(net.parameters())
            norm = torch.sqrt(sum((q.grad ** 2).sum() for q in params)) + 1e-12
            with torch.no_grad():
                nudges = [a.sam * q.grad / norm for q in params]
                for q, e in zip(params, nudges):
                    q.add_(e)
            opt.zero_grad()
            loss().backward()
            with torch.no_grad():
                for q, e in zip(params, nudges):
                    q.sub_(e)
        opt.step()
        t += 1
        d = min(a.ema, (1 + t) / (10 + t))
        with torch.no_grad():
            for e, q in zip(ema, net.parameters()):
                e.mul_(d).add_(q.detach(), alpha=1 - d)
    val = accuracy(Xv_t, Yv_t)
    if val > best[0]:
        best = (val, accuracy(Xt_t, Yt_t), epoch + 1)
    print(f'epoch {epoch + 1} val {val * 100:.2f}% ({time.time() - start:.0f} s)', flush=True)
print(f'best val {best[0] * 100:.2f}% test {best[1] * 100:.2f}% at epoch {best[2]} of {a.epochs}, '
      f'{time.time() - start:.0f} s')
