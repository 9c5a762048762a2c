#!/bin/sh
# Test support for test/node/readme-commands.test.ts: what `npm install -g <tarball>` does, without
# the registry. It unpacks the tarball where npm would (`$(npm root -g)/<name>`, so
# npm_config_prefix moves it), gives it this checkout's node_modules instead of downloading its
# dependencies (node-llama-cpp alone is ~700 MB), and links its bins into the prefix's bin folder,
# which the caller puts on PATH. What runs is then only what the tarball ships.
set -eu
tarball=$1
checkout=$(cd "$(dirname "$0")/../.." && pwd -P)
root=$(npm root -g)
prefix_bin=$(dirname "$(dirname "$root")")/bin
staging=$(mktemp -d)
tar -xzf "$tarball" -C "$staging"
name=$(node -p 'require(process.argv[1]).name' "$staging/package/package.json")
rm -rf "${root:?}/$name"
mkdir -p "$root" "$prefix_bin"
mv "$staging/package" "$root/$name"
rmdir "$staging"
ln -s "$checkout/node_modules" "$root/$name/node_modules"
node -e '
  const { bin } = require(process.argv[1]);
  for (const [command, file] of Object.entries(bin)) console.log(command + " " + file);
' "$root/$name/package.json" | while read -r command file; do
  chmod +x "$root/$name/$file"
  ln -sf "$root/$name/$file" "$prefix_bin/$command"
done
