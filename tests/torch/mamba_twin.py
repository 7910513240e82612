"""PyTorch twin of attnlab's mamba family, for tests/torch/twin.py: MambaLMHeadModel of
state-spaces/mamba (mamba_ssm/models/mixer_seq_simple.py, rms_norm, no fused kernels) with the
mixer of mamba_ssm/modules/mamba_simple.py, its selective scan written out as the sequential loop
of selective_scan_ref in plain torch. Parameter names are attnlab's (the reference's without
`backbone.`), so a checkpoint loads with strict=True."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.eps, self.weight = eps, nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.square().mean(-1, keepdim=True) + self.eps) * self.weight


class Bias(nn.Module):
    """dt_proj with --ssm-lti: its bias alone (delta = softplus(bias), the same at every step)."""

    def __init__(self, n):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(n))


class Mixer(nn.Module):
    def __init__(self, c):
        super().__init__()
        D, self.N, K, self.lti = c["d_model"], c["d_state"], c["d_conv"], c["ssm_lti"]
        self.ED, self.R = c["expand"] * D, c["dt_rank"] or math.ceil(D / 16)
        self.in_proj = nn.Linear(D, 2 * self.ED, bias=False)
        self.conv1d = nn.Conv1d(self.ED, self.ED, K, groups=self.ED, padding=K - 1, bias=True)
        if self.lti:
            self.dt_proj, self.B, self.C = Bias(self.ED), nn.Parameter(torch.zeros(self.N)), nn.Parameter(torch.zeros(self.N))
        else:
            self.x_proj = nn.Linear(self.ED, self.R + 2 * self.N, bias=False)
            self.dt_proj = nn.Linear(self.R, self.ED, bias=True)
        self.A_log = nn.Parameter(torch.zeros(self.ED, self.N))
        self.D = nn.Parameter(torch.ones(self.ED))
        self.out_proj = nn.Linear(self.ED, D, bias=False)

    def forward(self, u):
        Bt, L, _ = u.shape
        x, z = self.in_proj(u).chunk(2, dim=-1)
        x = F.silu(self.conv1d(x.transpose(1, 2))[..., :L].transpose(1, 2))
        if self.lti:
            delta = F.softplus(self.dt_proj.bias).expand(Bt, L, self.ED)
            Bm, Cm = self.B.expand(Bt, L, self.N), self.C.expand(Bt, L, self.N)
        else:
            dt, Bm, Cm = torch.split(self.x_proj(x), [self.R, self.N, self.N], dim=-1)
            delta = F.softplus(self.dt_proj(dt))
        A = -torch.exp(self.A_log)
        h, ys = u.new_zeros(Bt, self.ED, self.N), []
        for t in range(L):  # h_t = exp(delta_t A) h_{t-1} + delta_t B_t x_t;  y_t = C_t . h_t
            d = delta[:, t, :, None]
            h = torch.exp(d * A) * h + d * Bm[:, t, None, :] * x[:, t, :, None]
            ys.append((h * Cm[:, t, None, :]).sum(-1))
        y = torch.stack(ys, 1) + x * self.D
        return self.out_proj(y * F.silu(z))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm, self.mixer = RMSNorm(c["d_model"]), Mixer(c)

    def forward(self, h):
        return h + self.mixer(self.norm(h))


class MambaLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embedding = nn.Embedding(c["tgt_vocab"], c["d_model"])
        self.layers = nn.ModuleList([Block(c) for _ in range(c["layers"])])
        self.norm_f = RMSNorm(c["d_model"])
        self.tied = c["tie_output"]
        if not self.tied:
            self.lm_head = nn.Linear(c["d_model"], c["tgt_vocab"], bias=False)

    def forward(self, x, pad=None):  # right padding needs no mask: a position sees only the past
        h = self.embedding(x)
        for layer in self.layers:
            h = layer(h)
        h = self.norm_f(h)
        return F.linear(h, self.embedding.weight) if self.tied else self.lm_head(h)
