package manifests

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"

	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// Dir is configs/kubernetes of this repository.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "configs", "kubernetes")
}

// Manifest is one decoded file of configs/kubernetes.
type Manifest struct {
	File   string
	Object k8sruntime.Object
}

// Load decodes every manifest configs/kubernetes/kustomization.yaml lists, in its order,
// strictly (an unknown or duplicated field is an error, as with server-side field
// validation), and fails when a manifest of the directory is not listed.
func Load() ([]Manifest, error) {
	dir := Dir()
	var kust struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Resources  []string `json:"resources"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return nil, err
	}
	if err := yaml.UnmarshalStrict(b, &kust); err != nil {
		return nil, fmt.Errorf("kustomization.yaml: %w", err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if base := filepath.Base(f); base != "kustomization.yaml" && !slices.Contains(kust.Resources, base) {
			return nil, fmt.Errorf("%s is not listed in kustomization.yaml", base)
		}
	}
	dec := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()
	var out []Manifest
	for _, name := range kust.Resources {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		obj, _, err := dec.Decode(b, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("%s does not decode strictly: %w", name, err)
		}
		out = append(out, Manifest{File: name, Object: obj})
	}
	return out, nil
}
