//! The CLI's side of the control endpoint.

use std::time::Duration;

use futures::{Stream, StreamExt};
use serde::de::DeserializeOwned;

use super::{OwnerInfo, owner_running};
use crate::{Error, Result, supervisor::ServerStatus};
use switchboard_core::{WireError, logs::LogLine, paths::Paths};

/// A connection to the running owner of a state folder.
#[derive(Debug, Clone)]
pub struct ControlClient {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl ControlClient {
    /// Finds the owner of `paths`; [`Error::NoOwner`] when none runs.
    pub fn connect(paths: &Paths) -> Result<Self> {
        let no_owner = || Error::NoOwner { state_dir: paths.run_dir.clone() };
        if !owner_running(paths) {
            return Err(no_owner());
        }
        let info = OwnerInfo::read(paths).ok_or_else(no_owner)?;
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(3))
            .build()
            .map_err(|e| Error::Control(e.to_string()))?;
        Ok(ControlClient {
            base: format!("http://127.0.0.1:{}", info.port),
            token: info.token,
            http,
        })
    }

    pub async fn status(&self) -> Result<Vec<ServerStatus>> {
        self.json(self.http.get(self.url("/v1/status"))).await
    }

    /// `action` is `start`, `stop` or `restart`.
    pub async fn action(&self, name: &str, action: &str) -> Result<ServerStatus> {
        self.json(self.http.post(self.url(&format!("/v1/servers/{name}/{action}")))).await
    }

    /// Who reaches each server through the owner's gateway, as its newest `traffic` event said.
    pub async fn traffic(&self) -> Result<Vec<crate::events::HostTraffic>> {
        self.json(self.http.get(self.url("/v1/traffic"))).await
    }

    pub async fn reload(&self) -> Result<()> {
        self.send(self.http.post(self.url("/v1/reload"))).await.map(drop)
    }

    /// The tool definitions each running server lists now, by server.
    pub async fn tools(
        &self,
    ) -> Result<std::collections::BTreeMap<String, Vec<serde_json::Value>>> {
        self.json(self.http.get(self.url("/v1/tools"))).await
    }

    /// Asks the owner to quit (it stops its servers); returns once it has accepted, not once
    /// it has ended ([`owner_running`] says when it has).
    pub async fn quit(&self) -> Result<()> {
        self.send(self.http.post(self.url("/v1/quit"))).await.map(drop)
    }

    pub async fn logs(&self, name: &str) -> Result<Vec<LogLine>> {
        self.json(self.http.get(self.url(&format!("/v1/servers/{name}/logs")))).await
    }

    /// The log so far, then every new line until the owner stops.
    pub async fn follow_logs(&self, name: &str) -> Result<impl Stream<Item = Result<LogLine>>> {
        let request = self.http.get(self.url(&format!("/v1/servers/{name}/logs?follow=true")));
        let lines = self.lines(request).await?;
        Ok(lines.map(|line| {
            line.and_then(|l| serde_json::from_str(&l).map_err(|e| Error::Control(e.to_string())))
        }))
    }

    /// Every event as a raw JSON line, until the owner stops.
    pub async fn events(&self) -> Result<impl Stream<Item = Result<String>>> {
        self.lines(self.http.get(self.url("/v1/events"))).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| Error::Control(format!("cannot reach the owner: {e}")))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        match response.json::<WireError>().await {
            Ok(wire) => Err(wire.into()),
            Err(_) => Err(Error::Control(format!("the owner answered {status}"))),
        }
    }

    async fn json<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<T> {
        self.send(request)
            .await?
            .json()
            .await
            .map_err(|e| Error::Control(format!("unexpected answer from the owner: {e}")))
    }

    async fn lines(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<impl Stream<Item = Result<String>>> {
        let bytes = self.send(request).await?.bytes_stream();
        let mut pending: Vec<u8> = Vec::new();
        Ok(bytes
            .map(move |chunk| {
                let chunk = match chunk {
                    Ok(chunk) => chunk,
                    Err(e) => return vec![Err(Error::Control(e.to_string()))],
                };
                pending.extend_from_slice(&chunk);
                let mut out = Vec::new();
                while let Some(i) = pending.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=i).collect();
                    out.push(Ok(String::from_utf8_lossy(&line[..i]).into_owned()));
                }
                out
            })
            .flat_map(futures::stream::iter))
    }
}
