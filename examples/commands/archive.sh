#!/bin/sh
# Packs a folder of the data folder into a tar.gz, reporting on file descriptor 3.
#   archive.sh --level N -- FOLDER
set -eu

level=6
while [ $# -gt 0 ]; do
  case "$1" in
    --level) level="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
folder="${1:-}"
# The server's data folder (--data-root); run by hand, the repository's data/files.
data="${HEADWAY_DATA_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)/data/files}"

case "$folder" in
  "" | /* | ..* | */..* ) echo "the folder must be a path inside the data folder, not \"$folder\"" >&2; exit 2 ;;
esac
if [ ! -d "$data/$folder" ]; then
  echo "there is no folder \"$folder\" in the data folder" >&2
  exit 3
fi

# Progress: the number of files, then one step per file.
total=$(find "$data/$folder" -type f | wc -l)
echo "progress 0 $total files" >&3
echo "message Listing $folder" >&3
list="$(mktemp)"
find "$data/$folder" -type f > "$list"
n=0
while IFS= read -r file; do
  n=$((n + 1))
  echo "progress $n" >&3
  echo "added ${file#"$data/"}"
done < "$list"
if [ "$total" -eq 0 ]; then
  echo "level warning" >&3
  echo "log warn The folder is empty: the archive holds nothing" >&3
fi

echo "message Compressing" >&3
out="$HEADWAY_OUTPUT_DIR/$(basename "$folder").tar.gz"
tar -C "$data" -cf - -- "$folder" | gzip "-$level" > "$out"
rm -f "$list"
bytes=$(wc -c < "$out")
echo "result {\"files\": $total, \"bytes\": $bytes, \"level\": $level}" >&3
echo "message Done" >&3
