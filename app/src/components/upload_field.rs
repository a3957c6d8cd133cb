//! A file parameter of a start form. With JavaScript the file streams to `POST /api/v1/uploads`
//! as soon as it is picked, with its own bar (bytes sent of total, rate, time left) and a button
//! that cancels it; the form then sends the upload's id as the parameter. Without JavaScript the
//! field is a plain file input of a multipart form that uploads and starts in one post.

use crate::format;
use crate::i18n::{t, Text};
use leptos::prelude::*;

/// Where an upload is.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub enum Upload {
    /// No file picked.
    Idle,
    /// Sending `name`: `sent` of `total` bytes, since `started_ms` (now `now_ms`).
    Sending {
        name: String,
        sent: u64,
        total: u64,
        started_ms: f64,
        now_ms: f64,
    },
    /// Stored as `id`.
    Done { id: String, name: String, size: u64 },
    /// Refused or cut: why.
    Failed(String),
    /// Cancelled by the person uploading.
    Cancelled(String),
}

impl Upload {
    fn state(&self) -> &'static str {
        match self {
            Upload::Idle => "idle",
            Upload::Sending { .. } => "sending",
            Upload::Done { .. } => "done",
            Upload::Failed(_) => "failed",
            Upload::Cancelled(_) => "cancelled",
        }
    }

    fn level(&self) -> &'static str {
        match self {
            Upload::Done { .. } => "level-success",
            Upload::Failed(_) => "level-danger",
            Upload::Cancelled(_) => "level-warning",
            _ => "level-info",
        }
    }

    /// Bytes sent and the total, for the bar.
    fn amounts(&self) -> (u64, u64) {
        match self {
            Upload::Sending { sent, total, .. } => (*sent, *total),
            Upload::Done { size, .. } => (*size, *size),
            _ => (0, 0),
        }
    }

    /// What the bar's text says, in the reader's words.
    pub fn text(&self, t: Text) -> String {
        match self {
            Upload::Idle => String::new(),
            Upload::Sending {
                name,
                sent,
                total,
                started_ms,
                now_ms,
            } => t.upload_sending(
                name.as_str(),
                sending_text(t, *sent, *total, now_ms - started_ms),
            ),
            Upload::Done { name, size, .. } => t.upload_done(name.as_str(), format::bytes(*size)),
            Upload::Failed(why) => why.clone(),
            Upload::Cancelled(name) => t.upload_cancelled(name.as_str()),
        }
    }
}

/// `12.0 MiB of 100 MiB (12%) · 40.0 MiB/s · about 3s left`: the rate and the time left once a
/// quarter second has passed and something was sent.
pub fn sending_text(t: Text, sent: u64, total: u64, elapsed_ms: f64) -> String {
    let pct = match total {
        0 => 0.0,
        all => sent.min(all) as f64 * 100.0 / all as f64,
    };
    let mut text = t.upload_of(
        format::bytes(sent),
        format::bytes(total),
        format!("{pct:.0}"),
    );
    if elapsed_ms >= 250.0 && sent > 0 {
        let per_ms = sent as f64 / elapsed_ms;
        let left_ms = total.saturating_sub(sent) as f64 / per_ms;
        text.push_str(" · ");
        text.push_str(&t.upload_rate(format::bytes((per_ms * 1000.0) as u64)));
        text.push_str(" · ");
        text.push_str(&t.job_left(format::span(t, left_ms.ceil() as i64)));
    }
    text
}

/// The field of the file parameter `name` in the form whose fields have ids `input_id`.
#[island(lazy)]
pub fn UploadField(
    input_id: String,
    name: String,
    label: String,
    description: String,
    accept: String,
    max_bytes: Option<u64>,
    message: Option<String>,
) -> impl IntoView {
    let t = t();
    let live = RwSignal::new(false);
    let upload = RwSignal::new(Upload::Idle);
    let error_id = format!("{input_id}-error");
    let status_id = format!("{input_id}-upload");
    let hint_id = format!("{input_id}-hint");
    let described = match description.is_empty() {
        true => format!("{error_id} {status_id}"),
        false => format!("{hint_id} {error_id} {status_id}"),
    };
    let hint = (!description.is_empty())
        .then(|| view! { <p class="field-hint" id=hint_id>{description}</p> });
    let invalid = message.is_some().then_some("true");
    let field = format!("params[{name}]");
    let file_name = {
        let field = field.clone();
        move || (!live.get()).then(|| field.clone())
    };
    let id_name = move || live.get().then(|| field.clone());
    let id_value = move || match upload.get() {
        Upload::Done { id, .. } => id,
        _ => String::new(),
    };
    #[cfg(feature = "hydrate")]
    let sending = send::Sending::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| live.set(true));
    #[cfg(not(feature = "hydrate"))]
    let _ = max_bytes;
    let pick = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        sending.pick(ev, upload, max_bytes);
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let cancel = {
        #[cfg(feature = "hydrate")]
        let input_id = input_id.clone();
        move |_| {
            #[cfg(feature = "hydrate")]
            sending.cancel(upload, &input_id);
        }
    };
    let pct = move || {
        let (sent, total) = upload.with(Upload::amounts);
        match total {
            0 => 0.0,
            t => sent.min(t) as f64 * 100.0 / t as f64,
        }
    };
    view! {
        <div class="field upload-field">
            <label for=input_id.clone()>{label.clone()}</label>
            <input
                id=input_id
                type="file"
                name=file_name
                accept=accept
                aria-describedby=described
                aria-invalid=invalid
                on:change=pick
            />
            {hint}
            <input type="hidden" name=id_name value=id_value class="upload-id"/>
            <div
                class=move || format!("upload {}", upload.with(Upload::level))
                id=status_id
                data-state=move || upload.with(Upload::state)
                hidden=move || upload.with(|u| *u == Upload::Idle)
            >
                <div
                    class="bar"
                    role="progressbar"
                    aria-label=t.upload_bar_label(label.as_str())
                    aria-valuemin="0"
                    aria-valuemax=move || upload.with(Upload::amounts).1.to_string()
                    aria-valuenow=move || upload.with(Upload::amounts).0.to_string()
                    aria-valuetext=move || upload.with(|u| u.text(t))
                >
                    <div class="bar-fill" style:width=move || format!("{:.1}%", pct())></div>
                </div>
                <p class="upload-text" aria-live="polite">{move || upload.with(|u| u.text(t))}</p>
                <button
                    type="button"
                    class="secondary upload-cancel"
                    hidden=move || upload.with(|u| u.state() != "sending")
                    on:click=cancel
                >
                    {t.upload_cancel()}
                </button>
            </div>
            <p class="field-error" id=error_id aria-live="polite">{message}</p>
        </div>
    }
}

/// The browser's side: one `XMLHttpRequest` at a time per field (its upload events give the
/// bar's numbers, which `fetch` does not).
#[cfg(feature = "hydrate")]
mod send {
    use super::Upload;
    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    type Handler = Closure<dyn FnMut(web_sys::Event)>;

    /// A request under way, with the handlers it calls.
    struct Inflight {
        xhr: web_sys::XmlHttpRequest,
        _handlers: Vec<Handler>,
    }

    impl Drop for Inflight {
        fn drop(&mut self) {
            self.xhr.set_onload(None);
            self.xhr.set_onerror(None);
            self.xhr.set_onabort(None);
            if let Ok(up) = self.xhr.upload() {
                up.set_onprogress(None);
            }
        }
    }

    #[derive(Clone, Copy)]
    pub struct Sending(StoredValue<Option<Inflight>, LocalStorage>);

    fn now_ms() -> f64 {
        js_sys::Date::now()
    }

    impl Sending {
        pub fn new() -> Self {
            Sending(StoredValue::new_local(None))
        }

        /// A file was picked (or the pick cleared): what was sending stops, and an upload no
        /// job used yet is deleted; the new file starts.
        pub fn pick(&self, ev: web_sys::Event, upload: RwSignal<Upload>, max_bytes: Option<u64>) {
            let Some(input) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            self.stop();
            if let Upload::Done { id, .. } = upload.get_untracked() {
                forget(&id);
            }
            let Some(file) = input.files().and_then(|f| f.get(0)) else {
                upload.set(Upload::Idle);
                return;
            };
            let name = file.name();
            let size = file.size() as u64;
            if let Some(max) = max_bytes.filter(|max| size > *max) {
                upload.set(Upload::Failed(format!(
                    "{name} is {}, over the {} a file may be",
                    crate::format::bytes(size),
                    crate::format::bytes(max)
                )));
                return;
            }
            match self.start(file, upload) {
                Ok(()) => {}
                Err(_) => upload.set(Upload::Failed(format!(
                    "{name} could not be sent: the browser refused the request"
                ))),
            }
        }

        /// Sends `file`, keeping `upload` up to date.
        fn start(
            &self,
            file: web_sys::File,
            upload: RwSignal<Upload>,
        ) -> Result<(), wasm_bindgen::JsValue> {
            let name = file.name();
            let total = file.size() as u64;
            let started_ms = now_ms();
            upload.set(Upload::Sending {
                name: name.clone(),
                sent: 0,
                total,
                started_ms,
                now_ms: started_ms,
            });
            let xhr = web_sys::XmlHttpRequest::new()?;
            xhr.open("POST", "/api/v1/uploads")?;
            xhr.set_request_header("Accept", "application/json")?;
            let encoded: String = js_sys::encode_uri_component(&name).into();
            xhr.set_request_header("X-File-Name", &encoded)?;
            let media = match file.type_() {
                t if t.is_empty() => "application/octet-stream".to_string(),
                t => t,
            };
            xhr.set_request_header("Content-Type", &media)?;

            let progress: Handler = Closure::new({
                let name = name.clone();
                move |ev: web_sys::Event| {
                    let Ok(ev) = ev.dyn_into::<web_sys::ProgressEvent>() else {
                        return;
                    };
                    upload.set(Upload::Sending {
                        name: name.clone(),
                        sent: ev.loaded() as u64,
                        total,
                        started_ms,
                        now_ms: now_ms(),
                    });
                }
            });
            let load: Handler = Closure::new({
                let (xhr, name, this) = (xhr.clone(), name.clone(), *self);
                move |_| {
                    let status = xhr.status().unwrap_or(0);
                    let text = xhr.response_text().ok().flatten().unwrap_or_default();
                    upload.set(answered(status, &text, &name));
                    this.finished();
                }
            });
            let error: Handler = Closure::new({
                let (name, this) = (name.clone(), *self);
                move |_| {
                    upload.set(Upload::Failed(crate::i18n::t().upload_lost(name.as_str())));
                    this.finished();
                }
            });
            let abort: Handler = Closure::new({
                let name = name.clone();
                move |_| upload.set(Upload::Cancelled(name.clone()))
            });
            xhr.upload()?
                .set_onprogress(Some(progress.as_ref().unchecked_ref()));
            xhr.set_onload(Some(load.as_ref().unchecked_ref()));
            xhr.set_onerror(Some(error.as_ref().unchecked_ref()));
            xhr.set_onabort(Some(abort.as_ref().unchecked_ref()));
            xhr.send_with_opt_blob(Some(&file))?;
            self.0.set_value(Some(Inflight {
                xhr,
                _handlers: vec![progress, load, error, abort],
            }));
            Ok(())
        }

        /// The request ended: its handlers go once this event has been handled.
        fn finished(&self) {
            let this = *self;
            leptos::task::spawn_local(async move {
                this.0.set_value(None);
            });
        }

        /// Stops what is sending (its abort handler says so).
        fn stop(&self) {
            let inflight = self.0.try_update_value(|v| v.take()).flatten();
            if let Some(inflight) = &inflight {
                let _ = inflight.xhr.abort();
            }
        }

        /// "Cancel upload": stops it and clears the field.
        pub fn cancel(&self, upload: RwSignal<Upload>, input_id: &str) {
            self.stop();
            if let Upload::Sending { name, .. } = upload.get_untracked() {
                upload.set(Upload::Cancelled(name));
            }
            if let Some(input) = document()
                .get_element_by_id(input_id)
                .and_then(|i| i.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                input.set_value("");
            }
        }
    }

    /// What the server's answer to an upload says.
    fn answered(status: u16, text: &str, name: &str) -> Upload {
        if status == 201 {
            if let Ok(u) = serde_json::from_str::<crate::model::Upload>(text) {
                return Upload::Done {
                    id: u.id.to_string(),
                    name: u.name,
                    size: u.size,
                };
            }
        }
        let why = serde_json::from_str::<crate::model::AppError>(text)
            .map(|e| e.message)
            .unwrap_or_else(|_| format!("the server answered {status}"));
        Upload::Failed(format!("{name} was not uploaded: {why}"))
    }

    /// Deletes an upload that was replaced before any job used it (one a job used stays, and
    /// the server says so; either way nothing waits for the answer).
    fn forget(id: &str) {
        let init = web_sys::RequestInit::new();
        init.set_method("DELETE");
        if let Some(window) = web_sys::window() {
            let _ = window.fetch_with_str_and_init(&format!("/api/v1/uploads/{id}"), &init);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_says_how_much_how_fast_and_how_long_once_there_is_a_rate() {
        let t = Text::of(crate::i18n::Lang::En);
        assert_eq!(sending_text(t, 0, 100 << 20, 0.0), "0 B of 100 MiB (0%)");
        // Too early for a rate.
        assert_eq!(
            sending_text(t, 1 << 20, 100 << 20, 100.0),
            "1.0 MiB of 100 MiB (1%)"
        );
        // 25 MiB in 1 s: 25 MiB/s, 75 MiB left take 3 s.
        assert_eq!(
            sending_text(t, 25 << 20, 100 << 20, 1000.0),
            "25.0 MiB of 100 MiB (25%) · 25.0 MiB/s · about 3s left"
        );
        let zh = Text::of(crate::i18n::Lang::ZhCn);
        assert_eq!(
            sending_text(zh, 25 << 20, 100 << 20, 1000.0),
            "25.0 MiB / 100 MiB（25%） · 25.0 MiB/秒 · 约剩 3 秒"
        );
    }

    #[test]
    fn each_state_has_its_text_and_colour() {
        let done = Upload::Done {
            id: "u1".into(),
            name: "rows.csv".into(),
            size: 2048,
        };
        let t = Text::of(crate::i18n::Lang::En);
        assert_eq!(done.text(t), "Uploaded rows.csv (2.0 KiB) ✓");
        assert_eq!(done.amounts(), (2048, 2048));
        assert_eq!(done.level(), "level-success");
        let cancelled = Upload::Cancelled("rows.csv".into());
        assert_eq!(cancelled.text(t), "Upload of rows.csv cancelled");
        let zh = Text::of(crate::i18n::Lang::ZhCn);
        assert_eq!(done.text(zh), "已上传 rows.csv（2.0 KiB）✓");
        assert_eq!(cancelled.text(zh), "已取消上传 rows.csv");
        assert_eq!(cancelled.state(), "cancelled");
        assert_eq!(Upload::Idle.text(t), "");
    }
}
