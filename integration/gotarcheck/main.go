// Command gotarcheck writes the buildpackage layer of a staged buildpack directory with Go's own
// archive/tar, following the rules docs/distribution.md takes from pack (ReadDirAsTar, then
// toDistTar). The packaging tests compare its bytes with packager/layer.py's, so the Python
// encoding of every header is checked against the real Go writer pack links.
//
//	go run . STAGE_DIR ESCAPED_ID VERSION > layer.tar
package main

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path"
	"path/filepath"
	"time"
)

var normalized = time.Date(1980, time.January, 1, 0, 0, 1, 0, time.UTC)

// firstTar is the directory as one tar: Walk order, relative names, 0:0, normalized mtime.
func firstTar(dir string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.Walk(dir, func(file string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, file)
		if err != nil || rel == "." || fi.Mode()&os.ModeSocket != 0 {
			return err
		}
		link := ""
		if fi.Mode()&os.ModeSymlink != 0 {
			if link, err = os.Readlink(file); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		hdr.ModTime = normalized
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			f, err := os.Open(file)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(tw, f)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = tw.Close()
	return buf.Bytes(), err
}

func mode(h *tar.Header) int64 {
	switch {
	case h.Typeflag == tar.TypeDir, h.Name == "bin/build", h.Name == "bin/detect", h.Name == "bin/generate", h.Mode&0111 != 0:
		return 0755
	}
	return 0644
}

func main() {
	dir, id, version := os.Args[1], os.Args[2], os.Args[3]
	first, err := firstTar(dir)
	if err != nil {
		panic(err)
	}
	out := tar.NewWriter(os.Stdout)
	parent := path.Join("/cnb/buildpacks", id)
	base := path.Join(parent, version)
	for _, name := range []string{parent, base} {
		if err := out.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0755, ModTime: normalized}); err != nil {
			panic(err)
		}
	}
	tr := tar.NewReader(bytes.NewReader(first))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		hdr.ModTime = normalized
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		hdr.Name = path.Clean(hdr.Name)
		hdr.Mode = mode(hdr)
		hdr.Name = path.Join(base, hdr.Name)
		if err := out.WriteHeader(hdr); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(3)
		}
		if _, err := io.Copy(out, tr); err != nil {
			panic(err)
		}
	}
	if err := out.Close(); err != nil {
		panic(err)
	}
}
