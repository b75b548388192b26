"""A faster CPU backward for the xUnit gates' depthwise convs, for training.

PyTorch 1.13's CPU backward of a depthwise conv (groups == channels) takes 22 ms for a 48-channel
7x7 conv over 16 patches of 48x48 against 3 ms forward (channels_last; 53 ms NCHW): it goes
through a generic grouped-conv path. Both gradients are themselves depthwise convs, which run
at forward speed:

  grad_input  = the same conv of grad_output with the kernel flipped (stride 1, padding k // 2)
  grad_weight = a depthwise conv of the padded input by grad_output, with the batch folded into
                the channels (one N*C-group conv whose kernel is H x W and output k x k), then
                summed over the batch

~11 ms for the pair in a training step (2 threads), a tenth off a step of the 48/6 denoisers. Only stride 1,
dilation 1, zero padding k // 2 and odd k are taken over (what the xUnit gates use); any other
conv keeps PyTorch's own path. `python3 models/fast_depthwise.py` checks the gradients against
PyTorch's.
"""

import sys

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ModuleNotFoundError as e:
    if __name__ == "__main__" and e.name == "torch":
        print("fast_depthwise: skipped (no torch: Debian's python3-torch trains the models)")
        sys.exit(77)  # ctest's SKIP_RETURN_CODE
    raise


class _DepthwiseConv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return F.conv2d(x, weight, bias, padding=weight.shape[-1] // 2, groups=weight.shape[0])

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        c, k = weight.shape[0], weight.shape[-1]
        p = k // 2
        grad_x = grad_w = grad_b = None
        if x.is_contiguous(memory_format=torch.channels_last):
            grad_out = grad_out.contiguous(memory_format=torch.channels_last)  # NCHW: 6x slower
        if ctx.needs_input_grad[0]:
            grad_x = F.conv2d(grad_out, weight.flip(2, 3), padding=p, groups=c)
        if ctx.needs_input_grad[1]:
            # (C, N) planes, each image's padded: one strided copy each (a pad of the transposed
            # view would copy twice)
            n, _, h, w = x.shape
            xp = x.new_zeros(c, n, h + 2 * p, w + 2 * p)
            xp[:, :, p:p + h, p:p + w].copy_(x.transpose(0, 1))
            g = grad_out.transpose(0, 1).contiguous()
            grad_w = F.conv2d(xp.view(1, c * n, h + 2 * p, w + 2 * p), g.view(c * n, 1, h, w),
                              groups=c * n).view(c, n, k, k).sum(1, keepdim=True)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad_out.sum((0, 2, 3))
        return grad_x, grad_w, grad_b


def _eligible(m):
    if not isinstance(m, nn.Conv2d):
        return False
    k = m.kernel_size
    return (m.groups == m.in_channels == m.out_channels and k[0] == k[1] and k[0] % 2 == 1
            and m.stride == (1, 1) and m.dilation == (1, 1) and m.padding == (k[0] // 2,) * 2
            and m.padding_mode == "zeros")


def _forward(self, x):
    return _DepthwiseConv.apply(x, self.weight, self.bias)


def speed_up_depthwise(model):
    """Route the eligible depthwise convs of model through _DepthwiseConv; returns how many.
    The state_dict is unchanged (only the modules' forward is swapped)."""
    count = 0
    for m in model.modules():
        if _eligible(m):
            m.forward = _forward.__get__(m, nn.Conv2d)
            count += 1
    return count


def _self_test():
    torch.manual_seed(0)
    worst = 0.0
    for cl in (False, True):
        for (n, c, h, w, k, bias) in [(3, 5, 11, 9, 7, True), (2, 4, 6, 13, 9, False),
                                      (1, 3, 4, 4, 3, True), (2, 6, 3, 5, 7, True)]:
            ref = nn.Conv2d(c, c, k, padding=k // 2, groups=c, bias=bias).double()
            fast = nn.Conv2d(c, c, k, padding=k // 2, groups=c, bias=bias).double()
            fast.load_state_dict(ref.state_dict())
            assert speed_up_depthwise(fast) == 1
            x = torch.randn(n, c, h, w, dtype=torch.float64)
            if cl:  # as train.py runs: the model and its input in NHWC
                x = x.to(memory_format=torch.channels_last)
                ref = ref.to(memory_format=torch.channels_last)
                fast = fast.to(memory_format=torch.channels_last)
            gy = torch.randn(n, c, h, w, dtype=torch.float64)
            outs = []
            for mod in (ref, fast):
                xi = x.clone().requires_grad_()
                y = mod(xi)
                y.backward(gy)
                grads = [xi.grad, mod.weight.grad] + ([mod.bias.grad] if bias else [])
                outs.append([y.detach()] + grads)
            for a, b in zip(*outs):
                d = float((a - b).abs().max())
                scale = max(1.0, float(a.abs().max()))
                worst = max(worst, d / scale)
                if d > 1e-10 * scale:
                    raise SystemExit("fast_depthwise: mismatch %.3g (n=%d c=%d %dx%d k=%d)"
                                     % (d, n, c, h, w, k))
    # convs it must leave alone
    for m in (nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(4, 4, 3, padding=0, groups=4),
              nn.Conv2d(4, 4, 3, padding=1, stride=2, groups=4),
              nn.Conv2d(4, 4, 4, padding=2, groups=4)):
        if speed_up_depthwise(m) != 0:
            raise SystemExit("fast_depthwise: took over an ineligible conv %r" % m)
    print("fast_depthwise: gradients match PyTorch's (worst relative difference %.2g)" % worst)


if __name__ == "__main__":
    _self_test()
