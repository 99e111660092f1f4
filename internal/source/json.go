package source

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// DecodeJSONObject decodes one Kubernetes object sent as JSON (an
// admission request's object), with numbers as the YAML loader produces
// them. name is the source the object is reported from.
func DecodeJSONObject(name string, raw []byte) (*Object, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var body map[string]any
	if err := dec.Decode(&body); err != nil {
		return nil, fmt.Errorf("%s: decoding the object: %w", name, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: trailing data after the object", name)
	}
	if body == nil {
		return nil, errors.New(name + ": no object")
	}
	fromJSONNumbers(body)
	o := NewObject(body, Position{File: name}, -1)
	if o.APIVersion() == "" || o.Kind() == "" {
		return nil, fmt.Errorf("%s: the object has no apiVersion or kind", name)
	}
	if _, ok := body["metadata"]; ok && o.has&hasMetadata == 0 {
		return nil, fmt.Errorf("%s: metadata is not an object", name)
	}
	return o, nil
}
