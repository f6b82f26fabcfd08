# Shared by the benchmarks (sourced, not run). Benchmarks measure; they never fail the run
# because a goal was missed, but they say so on a line of its own that starts with MISSED.

# goal NAME VALUE OP TARGET UNIT: prints "MISSED: NAME VALUE UNIT (goal OP TARGET UNIT)" when
# VALUE OP TARGET is false. OP is one of <= < >= >.
goal() {
  local name=$1 value=$2 op=$3 target=$4 unit=${5:-}
  if ! awk -v v="$value" -v t="$target" -v op="$op" 'BEGIN {
      ok = (op == "<=") ? v <= t : (op == "<") ? v < t : (op == ">=") ? v >= t : v > t
      exit(ok ? 0 : 1) }'; then
    printf 'MISSED: %s %s%s (goal %s %s%s)\n' "$name" "$value" "$unit" "$op" "$target" "$unit"
  fi
}

# The median of the numbers on stdin, one per line.
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
