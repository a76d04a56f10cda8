# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""docs/cookbook.md: QObjects in a cycle, collected by a worker thread."""
import gc, os, sys, threading, time
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PyQt5.QtCore import QObject, QCoreApplication
app = QCoreApplication(sys.argv)
class StatusWatcher(QObject):
    def __init__(self, window):
        super().__init__()
        self.window = window
        window.watcher = self
class Window(QObject):
    pass
def open_window():
    StatusWatcher(Window())
class Downloader(threading.Thread):
    def run(self):
        time.sleep(0.2)
        gc.collect()
time.sleep(0.5)
gc.disable()
for _ in range(3):
    open_window()
d = Downloader(); d.start(); d.join()
