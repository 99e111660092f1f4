package source

import (
	"fmt"
	"path/filepath"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// buildKustomize runs `kustomize build` in-process and parses the result.
// Objects are attributed to the kustomization file: kustomize does not
// keep the position of the resource a patch ended up in.
func buildKustomize(opts Options, dir string) taskResult {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resources, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return failed(dir, fmt.Errorf("kustomize build: %w", err))
	}
	data, err := resources.AsYaml()
	if err != nil {
		return failed(dir, fmt.Errorf("kustomize build: serialising output: %w", err))
	}
	if int64(len(data)) > opts.MaxFileSize {
		return failed(dir, sizeError(int64(len(data)), opts.MaxFileSize))
	}
	file := kustomizationFile(dir)
	r := parse(file, data, false)
	for _, o := range r.objects {
		o.Source.Line = 0 // the line in the built stream means nothing to the user
		o.fields = nil    // and neither do its fields' lines
	}
	return r
}

func kustomizationFile(dir string) string {
	for _, name := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		p := filepath.Join(dir, name)
		if fileExists(p) {
			return p
		}
	}
	return dir
}
