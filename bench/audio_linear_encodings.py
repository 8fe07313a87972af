"""Softmax regression on one data folder's audio in several encodings, per speaker (issue 43):
binary or log-count frames, 64 or 16 bins, first-to-last event or the 1-99 % span.

    python3 bench/audio_linear_encodings.py DATA_FOLDER

Same training as bench/audio_baselines.py (30 epochs, Adam 1e-3 with cosine, seed 1); the
speaker is the key's second field without its trailing digits (`spikefuse synth --audio` keys).
"""
import sys, h5py, numpy as np, torch, contextlib, io
import os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from audio_baselines import frames, train
import torch.nn as nn
f = h5py.File(sys.argv[1] + '/n-tidigits.hdf5')
keys = sorted(f['test_addresses'].keys()); spk = np.array([k.split('-')[1].rstrip('0123456789r') for k in keys])
for name, bins, binary, trim in [('linear binary 64x64', 64, True, 0), ('linear logcount 64x64', 64, False, 0), ('linear logcount 64x16', 16, False, 0), ('linear binary 64x16',16,True,0), ('linear binary 64x64 trim', 64, True, 0.01), ('linear logcount 64x16 trim', 16, False, 0.01)]:
    c, y = frames(f, 'train', bins, binary, None, trim); ct, yt = frames(f, 'test', bins, binary, None, trim)
    if not binary: c, ct = torch.log1p(c), torch.log1p(ct)
    torch.manual_seed(1); m = nn.Linear(c.shape[1], 10)
    with contextlib.redirect_stdout(io.StringIO()): train(m, c, y, ct, yt, 30, 1, 'cosine')
    p = m(ct).argmax(1)
    print(name, 'all %.1f' % ((p == yt).float().mean() * 100), ' '.join('%s %.1f' % (s, (p[torch.tensor(spk == s)] == yt[torch.tensor(spk == s)]).float().mean() * 100) for s in sorted(set(spk))))
