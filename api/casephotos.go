package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/photo"
)

// casePhotoStore is what the photo handlers ask of the case store
// (postgis.Cases): a case's photos, one photo's bytes (with the view
// audited), and the categories the public files under.
type casePhotoStore interface {
	CasePhotos(ctx context.Context, id int64) ([]onemap.CasePhoto, error)
	ReadCasePhoto(ctx context.Context, id int64, sha256 string) (*onemap.Photo, error)
	PublicCaseCategories(ctx context.Context) ([]onemap.CaseCategory, error)
}

// errUnsupportedType is the transport's code for a part whose content is
// of a type the route does not take (415).
const errUnsupportedType = "unsupported_media_type"

// photoRequestLimit bounds a report or a step with its photos: the photos
// at their limit and the report beside them.
const photoRequestLimit = onemap.CaseMaxPhotos*onemap.PhotoMaxBytes + 64<<10

// stepPhotos reads a report or a step sent as multipart/form-data: a
// "report" part with the JSON the route takes otherwise and up to
// onemap.CaseMaxPhotos "photo" parts. Each photo is checked by its content
// (JPEG, PNG or WebP, whatever its name or declared type says) and
// stripped of its metadata (package photo) before anything else sees it.
// The report part is left as the request's body, for the route's own JSON
// decoding. A request that is not multipart is left as it is, with no
// photos.
//
// A part of another name is a 400 naming it; a fourth photo a 400 (field
// "photo"); a photo over onemap.PhotoMaxBytes, or a request over
// photoRequestLimit, a 413; a photo of another type a 415 naming the part.
func stepPhotos(c *gin.Context) ([]onemap.Photo, error) {
	mt, params, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, nil
	}
	if params["boundary"] == "" {
		return nil, onemap.Errorf(onemap.EINVALID, "body: a multipart form needs a boundary")
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, photoRequestLimit)
	tooLarge := func(err error, what string) error {
		var me *http.MaxBytesError
		if errors.As(err, &me) {
			return &onemap.Error{Code: errTooLarge, Message: fmt.Sprintf("body: more than %d bytes, the most a report with %d photos takes", me.Limit, onemap.CaseMaxPhotos)}
		}
		return onemap.Errorf(onemap.EINVALID, "body: %s: %v", what, err)
	}
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return nil, onemap.Errorf(onemap.EINVALID, "body: %v", err)
	}
	var (
		report []byte
		n      int
		// Each photo is stripped as soon as it is read, beside the
		// reading of the next (a few milliseconds each: no pixel is
		// decoded; a phone's photo is turned upright after the report is
		// stored, postgis.Cases.TurnPhotos).
		pending []*strippedPhoto
		wg      sync.WaitGroup
	)
	// fail returns err, unless a photo before it was refused: the first
	// refusal in the form's order is the one told.
	fail := func(err error) ([]onemap.Photo, error) {
		wg.Wait()
		for _, p := range pending {
			if p.err != nil {
				return nil, p.err
			}
		}
		return nil, err
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(tooLarge(err, "the multipart form"))
		}
		switch name := part.FormName(); name {
		case "report":
			if report != nil {
				return fail(onemap.FieldErrorf("report", onemap.EINVALID, "report: one report part, not two"))
			}
			if report, err = io.ReadAll(io.LimitReader(part, caseBodyLimit+1)); err != nil {
				return fail(tooLarge(err, "report"))
			}
			if len(report) > caseBodyLimit {
				return fail(&onemap.Error{Code: errTooLarge, Field: "report", Message: fmt.Sprintf("report: more than %d bytes", caseBodyLimit)})
			}
		case "photo":
			n++
			if n > onemap.CaseMaxPhotos {
				return fail(onemap.FieldErrorf("photo", onemap.EINVALID, "photo %d: at most %d photos a report or step", n, onemap.CaseMaxPhotos))
			}
			what := fmt.Sprintf("photo %d (%.60q)", n, part.FileName())
			b, err := io.ReadAll(io.LimitReader(part, onemap.PhotoMaxBytes+1))
			if err != nil {
				return fail(tooLarge(err, what))
			}
			if len(b) > onemap.PhotoMaxBytes {
				return fail(&onemap.Error{Code: errTooLarge, Field: "photo", Message: fmt.Sprintf("%s: more than %d MB, the most a photo may be; send a smaller one", what, onemap.PhotoMaxBytes>>20)})
			}
			p := &strippedPhoto{}
			pending = append(pending, p)
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.strip(what, b)
			}()
		default:
			return fail(onemap.FieldErrorf(name, onemap.EINVALID, "part %.40q: a report takes a \"report\" part (JSON) and up to %d \"photo\" parts", name, onemap.CaseMaxPhotos))
		}
	}
	if _, err := fail(nil); err != nil {
		return nil, err
	}
	photos := make([]onemap.Photo, len(pending))
	for i, p := range pending {
		photos[i] = p.photo
	}
	if report == nil {
		return nil, onemap.FieldErrorf("report", onemap.EINVALID, "report: the multipart form has no \"report\" part (the JSON of the report or step)")
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(report))
	c.Request.Header.Set("Content-Type", "application/json")
	return photos, nil
}

// strippedPhoto is one photo of a form, stripped (package photo) or
// refused with the error the route answers.
type strippedPhoto struct {
	photo onemap.Photo
	err   error
}

// strip checks and strips b, the photo the form calls what.
func (p *strippedPhoto) strip(what string, b []byte) {
	ct, clean, err := photo.Strip(b)
	switch {
	case errors.Is(err, photo.ErrUnknownType):
		p.err = &onemap.Error{Code: errUnsupportedType, Field: "photo", Message: fmt.Sprintf("%s: its content is %s, not a JPEG, PNG or WebP image", what, sniffed(b))}
	case err != nil:
		p.err = onemap.FieldErrorf("photo", onemap.EINVALID, "%s: %v", what, strings.TrimPrefix(err.Error(), "photo: "))
	default:
		p.photo = onemap.NewPhoto(ct, clean)
	}
}

// sniffed says what b looks like, for the message of a refused photo.
func sniffed(b []byte) string {
	if len(b) == 0 {
		return "empty"
	}
	return http.DetectContentType(b)
}

// casePhotoJSON is a photo of a step as the staff see it; URL serves it.
type casePhotoJSON struct {
	SHA256      string `json:"sha256"`
	ContentType string `json:"content_type"`
	Size        int    `json:"size"`
	URL         string `json:"url"`
}

// withPhotos adds the photos of case id to its timeline's steps.
func (s *Server) withPhotos(ctx context.Context, id int64, timeline []caseStepJSON) error {
	photos, err := s.cases.CasePhotos(ctx, id)
	if err != nil {
		return err
	}
	for _, p := range photos {
		for i := range timeline {
			if timeline[i].Seq == p.Seq {
				timeline[i].Photos = append(timeline[i].Photos, casePhotoJSON{SHA256: p.SHA256, ContentType: p.ContentType,
					Size: p.Size, URL: fmt.Sprintf("/api/cases/%d/photos/%s", id, p.SHA256)})
			}
		}
	}
	return nil
}

// reportPhotoCount is how many photos the public sent with case k's
// report: the only thing of photos the public's follow-up tells (0 for a
// case the staff entered: their photos are not the public's to count).
func (s *Server) reportPhotoCount(ctx context.Context, k *onemap.Case) (int, error) {
	if k.Source != onemap.SourcePublic {
		return 0, nil
	}
	photos, err := s.cases.CasePhotos(ctx, k.ID)
	n := 0
	for _, p := range photos {
		if p.Seq == 1 {
			n++
		}
	}
	return n, err
}

// handleCasePhoto answers GET /api/cases/{id}/photos/{sha256}: a photo of
// the case, to a caller who may see the case (as GET /api/cases/{id}; any
// other gets what it would get there: 401, 403 or 404). Every view is
// audited (case.photo.read), a revalidation too. Its ETag is the address
// of the bytes served: a phone's photo is served as accepted (its
// orientation tag alone) until it is turned upright, then upright, and only
// then are the bytes under its address final and cached privately as
// immutable; until then they are revalidated.
func (s *Server) handleCasePhoto(c *gin.Context) {
	k, _, _, err := s.caseParam(c)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	sha := c.Param("sha256")
	if !onemap.IsPhotoHash(sha) {
		writeError(c, s.log, onemap.FieldErrorf("sha256", onemap.EINVALID, "photo %.70q: want the 64 lower-case hex digits of its SHA-256", sha))
		return
	}
	p, err := s.cases.ReadCasePhoto(c.Request.Context(), k.ID, sha)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	etag := strconv.Quote(p.SHA256)
	h := c.Writer.Header()
	h.Set("ETag", etag)
	if p.Turning {
		h.Set("Cache-Control", "private, no-cache")
	} else {
		h.Set("Cache-Control", "private, max-age=31536000, immutable")
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Disposition", "inline")
	if inm := c.GetHeader("If-None-Match"); inm != "" && strings.Contains(inm, etag) {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, p.ContentType, p.Bytes)
}

// handlePublicCategories answers GET /api/public/categories: the categories
// the public files reports under, for the report form.
func (s *Server) handlePublicCategories(c *gin.Context) {
	list, err := s.cases.PublicCaseCategories(c.Request.Context())
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	type category struct {
		Code string `json:"code"`
		Name string `json:"name"`
	}
	out := make([]category, 0, len(list))
	for _, k := range list {
		out = append(out, category{Code: k.Code, Name: k.Name})
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.JSON(http.StatusOK, gin.H{"categories": out, "max_photos": onemap.CaseMaxPhotos, "photo_max_bytes": onemap.PhotoMaxBytes})
}
