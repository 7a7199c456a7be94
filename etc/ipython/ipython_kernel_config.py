# Installed by `make install` into <venv>/etc/ipython/: read by every kernel of the venv.
#
# papermill (every DVC stage) and JupyterLab start kernels over TCP on 127.0.0.1, where each message is signed with
# the connection file's key; ipykernel then warns, once per kernel, that the transport is not encrypted. That line
# is dropped, so that a stage's output holds what the stage says; every other message of the kernel stays.
import logging


class _NoPlainTcpNotice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Kernel is running over TCP without encryption")


c = get_config()  # noqa: F821 (provided by IPython when it reads this file)
c.IPKernelApp.logging_config = {
    "filters": {"plain_tcp_notice": {"()": _NoPlainTcpNotice}},
    "handlers": {"console": {"filters": ["plain_tcp_notice"]}},
}
