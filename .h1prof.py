import time, sys
t0 = time.perf_counter()
import cProfile, pstats
from sysd.cli import main
t1 = time.perf_counter()
pr = cProfile.Profile()
pr.enable()
rc = main(sys.argv[1:])
pr.disable()
t2 = time.perf_counter()
print(f"import cli {1000*(t1-t0):.1f} main {1000*(t2-t1):.1f}", file=sys.stderr)
pstats.Stats(pr, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
