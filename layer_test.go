package onemap

import "testing"

func TestCatalog_clusterFields(t *testing.T) {
	for _, l := range NewCatalog().Layers() {
		if l.ClusterBelow == 0 && l.ClusterFields != nil {
			t.Errorf("layer %s: ClusterFields %v but no ClusterBelow", l.ID, l.ClusterFields)
		}
		for _, name := range l.ClusterFields {
			if l.FieldIndex(name) < 0 {
				t.Errorf("layer %s: cluster field %q is not one of its fields", l.ID, name)
			}
		}
	}
}
