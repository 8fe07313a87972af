"""trim.py SRC DST Q: a copy of SRC/n-tidigits.hdf5 keeping each recording's events between its
Q and 1-Q quantiles of event time (the frames of the result, binned first..last event, are the
Q..1-Q span's frames); grabbed_data* linked."""
import sys, os, h5py, numpy as np
src, dst, q = sys.argv[1], sys.argv[2], float(sys.argv[3])
os.makedirs(dst, exist_ok=True)
for d in os.listdir(src):
    if d.startswith('grabbed_data') and not os.path.exists(f'{dst}/{d}'): os.symlink(os.path.abspath(f'{src}/{d}'), f'{dst}/{d}')
fi, fo = h5py.File(f'{src}/n-tidigits.hdf5'), h5py.File(f'{dst}/n-tidigits.hdf5', 'w')
for split in ['train', 'test']:
    fo[f'{split}_labels'] = fi[f'{split}_labels'][:]
    for k in fi[f'{split}_timestamps']:
        t, a = fi[f'{split}_timestamps'][k][:], fi[f'{split}_addresses'][k][:]
        lo, hi = np.quantile(t, [q, 1 - q]); keep = (t >= lo) & (t <= hi)
        fo[f'{split}_timestamps/{k}'] = t[keep]; fo[f'{split}_addresses/{k}'] = a[keep]
