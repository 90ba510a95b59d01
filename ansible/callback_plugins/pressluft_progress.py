# -*- coding: utf-8 -*-
# Pressluft progress events: a notification callback that writes one JSON object per line to the file descriptor named
# by PRESSLUFT_PROGRESS_FD (a pipe the control plane opens for each run). It prints nothing: the operator-facing output
# on stdout stays exactly the stock callback's. Without the variable it does nothing.
#
# Events: {"event": "start", "total": m}, {"event": "task", "name": ..., "n": n, "total": m, "handler": bool},
# {"event": "task_end", "n": n, "status": ok|changed|failed|skipped|unreachable}, {"event": "end", "n": n, "total": m}.
# How m is counted (docs/architecture.md "Live job progress"): every task of every play of the playbook, counted once
# before the first task runs (static imports and roles included; rescue sections, handlers and the implicit meta tasks
# excluded, since they run only on failure or on notification). Tasks whose condition is false still count: Ansible
# reports them as skipped. Tasks of dynamic includes (include_tasks, include_role) are not known up front; m grows by
# one for each of them that starts beyond the count.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = '''
    name: pressluft_progress
    type: notification
    short_description: Task progress of a Pressluft job as JSON lines on a file descriptor
    description:
      - Writes the current task, task n of m and task results to the descriptor in PRESSLUFT_PROGRESS_FD.
    requirements:
      - enabled through ANSIBLE_CALLBACKS_ENABLED by the Pressluft control plane
'''

import json
import os

from ansible.playbook.block import Block
from ansible.playbook.task import Task
from ansible.plugins.callback import CallbackBase

META_ACTIONS = frozenset(('meta', 'ansible.builtin.meta', 'ansible.legacy.meta'))


def _count(blocks):
    total = 0
    for item in blocks:
        if isinstance(item, Block):
            # block and always run on every path; rescue only after a failure.
            total += _count(item.block) + _count(item.always)
        elif isinstance(item, Task):
            if item.action not in META_ACTIONS and not getattr(item, 'implicit', False):
                total += 1
    return total


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'notification'
    CALLBACK_NAME = 'pressluft_progress'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._out = None
        self._total = 0
        self._n = 0
        self._current = None
        fd = os.environ.get('PRESSLUFT_PROGRESS_FD')
        if fd and fd.isdigit():
            try:
                self._out = os.fdopen(int(fd), 'w', buffering=1, encoding='utf-8')
            except OSError:
                self._out = None

    def _emit(self, **event):
        if self._out is None:
            return
        try:
            self._out.write(json.dumps(event, ensure_ascii=False) + '\n')
        except (OSError, ValueError):
            self._out = None

    def v2_playbook_on_start(self, playbook):
        total = 0
        for play in playbook.get_plays():
            try:
                total += _count(play.compile())
            except Exception:  # noqa: BLE001 - a count we cannot make must never fail the run
                pass
        self._total = total
        self._emit(event='start', total=total)

    def _task_start(self, task, handler):
        name = task.get_name().strip()
        if not handler:
            self._n += 1
            if self._n > self._total:
                self._total = self._n
            self._current = self._n
        self._emit(event='task', name=name, n=self._n, total=self._total, handler=handler)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start(task, False)

    def v2_playbook_on_handler_task_start(self, task):
        self._task_start(task, True)

    def _result(self, result, status):
        if result._task.action in META_ACTIONS:
            return
        self._emit(event='task_end', n=self._n, status=status)

    def v2_runner_on_ok(self, result):
        self._result(result, 'changed' if result._result.get('changed') else 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, 'ignored' if ignore_errors else 'failed')

    def v2_runner_on_skipped(self, result):
        self._result(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._result(result, 'unreachable')

    def v2_playbook_on_stats(self, stats):
        self._emit(event='end', n=self._n, total=self._total)
        if self._out is not None:
            try:
                self._out.flush()
            except (OSError, ValueError):
                pass
