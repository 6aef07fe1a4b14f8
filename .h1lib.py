import time
t0 = time.perf_counter()
import sysd
import sysd._sync.systemd
t1 = time.perf_counter()
sd = sysd.connect()
t2 = time.perf_counter()
u = sd.unit("systemd-journald.service")
t3 = time.perf_counter()
a = u.is_active()
t4 = time.perf_counter()
sd.close()
t5 = time.perf_counter()
import sys
print(f"import {1000*(t1-t0):.1f} connect {1000*(t2-t1):.1f} unit {1000*(t3-t2):.1f} call {1000*(t4-t3):.1f} close {1000*(t5-t4):.1f}", file=sys.stderr)
