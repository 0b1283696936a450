"""Makes Python as a container's PID 1 stop on SIGTERM, as it would anywhere else.

Put into the image's site-packages by the cnb-python buildpack (see its docs/pid1.md), with a
.pth file that imports it only in PID 1. The kernel never applies a signal's default action to
the init process of a PID namespace, so without a handler `docker stop` waits out its grace
period and kills PID 1. `install` gives SIGTERM a handler that does the default action itself,
only when nothing chose a disposition before (SIGTERM is SIG_DFL); an app that installs its
own handler later replaces this one. Set BPL_PYTHON_PID1_SIGTERM=false at launch to turn it
off. Runs under any Python 3 the image may have, so it uses no newer syntax.
"""

import os
import signal

VARIABLE = "BPL_PYTHON_PID1_SIGTERM"
_OFF = ("false", "0", "no", "off")


def _default_action(signum, frame):
    """What SIGTERM's default action does outside a container: end the process at once, with
    no cleanup, as killed by the signal. In PID 1 the kernel drops the re-sent signal, so the
    process ends itself with the status a shell and `docker` report for it, 128 + signum."""
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)  # not PID 1 (a fork the at-fork hook missed): this ends it
    os._exit(128 + signum)


def _forget_in_child():
    # A forked child is not PID 1: give it the disposition it would have had.
    if signal.getsignal(signal.SIGTERM) is _default_action:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def install():
    if os.environ.get(VARIABLE, "").strip().lower() in _OFF:
        return
    if os.getpid() != 1 or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        return
    signal.signal(signal.SIGTERM, _default_action)
    if hasattr(os, "register_at_fork"):  # Python 3.7+
        os.register_at_fork(after_in_child=_forget_in_child)
