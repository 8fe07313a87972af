"""pad.py SRC DST: a copy of SRC/n-tidigits.hdf5 whose recordings repeat their first and last
event k = n // 90 + 2 times each. Binary frames are unchanged (a repeat lands in an occupied
cell), and the 1st/99th percentiles of event time become the first/last event, so a
binary-framed run with the 1-99 % span on DST sees exactly the first-to-last-event frames of
SRC (the framing before issue 43). grabbed_data* linked."""
import sys, os, h5py, numpy as np
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
for d in os.listdir(src):
    if d.startswith('grabbed_data') and not os.path.exists(f'{dst}/{d}'): os.symlink(os.path.abspath(f'{src}/{d}'), f'{dst}/{d}')
fi, fo = h5py.File(f'{src}/n-tidigits.hdf5'), h5py.File(f'{dst}/n-tidigits.hdf5', 'w')
for split in ['train', 'test']:
    fo[f'{split}_labels'] = fi[f'{split}_labels'][:]
    for k in fi[f'{split}_timestamps']:
        t, a = fi[f'{split}_timestamps'][k][:], fi[f'{split}_addresses'][k][:]
        r = len(t) // 90 + 2
        o = np.argsort(t, kind='stable'); t, a = t[o], a[o]
        fo[f'{split}_timestamps/{k}'] = np.concatenate([np.repeat(t[:1], r), t, np.repeat(t[-1:], r)])
        fo[f'{split}_addresses/{k}'] = np.concatenate([np.repeat(a[:1], r), a, np.repeat(a[-1:], r)])
