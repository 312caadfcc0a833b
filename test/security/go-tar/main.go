// Reads gzip-compressed tar layers, one base64 line each on stdin, and for each prints what
// Istio's Wasm image fetcher (istio/istio pkg/wasm, compat variant) would take from it, using
// Go's own compress/gzip and archive/tar: the first entry whose filepath.Base is "plugin.wasm",
// read for Header.Size bytes. Output, one line per layer:
//
//	ok <sha256 hex> <1 if it starts with \0asm, else 0>
//	notfound
//	error <message>
package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

var errNotFound = errors.New("not found")

func pick(layer []byte) ([]byte, error) {
	gz, err := gzip.NewReader(bytes.NewReader(layer))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, errNotFound
		}
		if err != nil {
			return nil, err
		}
		if filepath.Base(h.Name) != "plugin.wasm" {
			continue
		}
		if h.Size < 0 || h.Size > 64<<20 {
			return nil, fmt.Errorf("size %d", h.Size)
		}
		out := make([]byte, h.Size)
		if _, err := io.ReadFull(tr, out); err != nil {
			return nil, err
		}
		return out, nil
	}
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for in.Scan() {
		layer, err := base64.StdEncoding.DecodeString(in.Text())
		if err != nil {
			fmt.Fprintf(w, "error bad input\n")
			continue
		}
		wasm, err := pick(layer)
		switch {
		case errors.Is(err, errNotFound):
			fmt.Fprintf(w, "notfound\n")
		case err != nil:
			fmt.Fprintf(w, "error %q\n", err.Error())
		default:
			sum := sha256.Sum256(wasm)
			magic := 0
			if bytes.HasPrefix(wasm, []byte("\x00asm")) {
				magic = 1
			}
			fmt.Fprintf(w, "ok %s %d\n", hex.EncodeToString(sum[:]), magic)
		}
	}
}
