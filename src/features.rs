//! KRaft's feature levels, `metadata.version` first: read from each broker's ApiVersions
//! answer and raised with UpdateFeatures (which a broker hands to the controllers), as
//! `kafka-features.sh upgrade --feature metadata.version=N` would — that tool is not in every
//! distribution kafkup installs (the Maven source has no kafka-tools jar). Only
//! metadata.version is raised: `--release-version` would also turn a static quorum dynamic
//! (KAFKA-21426), and the other features stay at what the release formats by default.

use crate::messaging::raw;
use kafka_protocol::messages::update_features_request::FeatureUpdateKey;
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, UpdateFeaturesRequest, UpdateFeaturesResponse,
};
use kafka_protocol::protocol::StrBytes;
use std::collections::BTreeMap;
use std::time::Duration;

pub const METADATA_VERSION: &str = "metadata.version";
/// ApiVersions v3: the first that lists features (Kafka 2.4+).
const API_VERSIONS_VERSION: i16 = 3;
/// UpdateFeatures v1: with the upgrade type (Kafka 3.3+).
const UPDATE_FEATURES_VERSION: i16 = 1;
/// UpdateFeatures' upgrade type: raise only.
const UPGRADE: i8 = 1;

/// One broker's view: the finalized level of each feature, and the highest it supports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Levels {
    pub finalized: BTreeMap<String, i16>,
    pub supported_max: BTreeMap<String, i16>,
}

/// A raise of metadata.version: from the finalized level to what every broker supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Raise {
    pub from: i16,
    pub to: i16,
}

/// What raising metadata.version would do, from every broker's levels: None when it is at
/// the highest level all of them support (or they do not say).
pub fn metadata_raise(brokers: &[Levels]) -> Option<Raise> {
    let to = brokers
        .iter()
        .map(|b| b.supported_max.get(METADATA_VERSION).copied())
        .collect::<Option<Vec<i16>>>()?
        .into_iter()
        .min()?;
    let from = brokers
        .iter()
        .filter_map(|b| b.finalized.get(METADATA_VERSION).copied())
        .max()?;
    (to > from).then_some(Raise { from, to })
}

/// The levels `address` (a plaintext listener) reports.
pub async fn read(address: &str, timeout: Duration) -> Result<Levels, String> {
    let request = ApiVersionsRequest::default()
        .with_client_software_name(StrBytes::from_static_str("kafkup"))
        .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
    let answer: ApiVersionsResponse = raw::ask(
        address,
        ApiKey::ApiVersions,
        &request,
        API_VERSIONS_VERSION,
        timeout,
    )
    .await?;
    if answer.error_code != 0 {
        return Err(format!("ApiVersions answered error {}", answer.error_code));
    }
    Ok(levels(&answer))
}

fn levels(answer: &ApiVersionsResponse) -> Levels {
    Levels {
        finalized: answer
            .finalized_features
            .iter()
            .map(|f| (f.name.to_string(), f.max_version_level))
            .collect(),
        supported_max: answer
            .supported_features
            .iter()
            .map(|f| (f.name.to_string(), f.max_version))
            .collect(),
    }
}

/// Raises `feature` to `level` through the broker at `address`.
pub async fn raise(
    address: &str,
    feature: &str,
    level: i16,
    timeout: Duration,
) -> Result<(), String> {
    let update = FeatureUpdateKey::default()
        .with_feature(StrBytes::from_string(feature.to_string()))
        .with_max_version_level(level)
        .with_upgrade_type(UPGRADE);
    let request = UpdateFeaturesRequest::default()
        .with_timeout_ms(i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX))
        .with_feature_updates(vec![update]);
    let answer: UpdateFeaturesResponse = raw::ask(
        address,
        ApiKey::UpdateFeatures,
        &request,
        UPDATE_FEATURES_VERSION,
        timeout,
    )
    .await?;
    refusal(&answer).map_or(Ok(()), Err)
}

/// What the controller said when it refused, if it did.
fn refusal(answer: &UpdateFeaturesResponse) -> Option<String> {
    let said = |code: i16, message: &Option<StrBytes>| {
        let message = message.as_ref().map(|m| m.to_string()).unwrap_or_default();
        format!("error {code}: {message}")
    };
    if answer.error_code != 0 {
        return Some(said(answer.error_code, &answer.error_message));
    }
    answer
        .results
        .iter()
        .find(|r| r.error_code != 0)
        .map(|r| format!("{}: {}", r.feature, said(r.error_code, &r.error_message)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::api_versions_response::{
        FinalizedFeatureKey, SupportedFeatureKey,
    };
    use kafka_protocol::messages::update_features_response::UpdatableFeatureResult;

    fn broker(finalized: i16, max: i16) -> Levels {
        Levels {
            finalized: [(METADATA_VERSION.to_string(), finalized)].into(),
            supported_max: [(METADATA_VERSION.to_string(), max)].into(),
        }
    }

    #[test]
    fn metadata_version_rises_to_what_every_broker_supports() {
        assert_eq!(
            metadata_raise(&[broker(29, 31), broker(29, 30)]),
            Some(Raise { from: 29, to: 30 })
        );
        assert_eq!(metadata_raise(&[broker(31, 31), broker(31, 31)]), None);
        // A broker that does not say what it supports: nothing is raised.
        assert_eq!(metadata_raise(&[broker(29, 31), Levels::default()]), None);
    }

    #[test]
    fn the_levels_and_a_refusal_come_out_of_the_answers() {
        let answer = ApiVersionsResponse::default()
            .with_finalized_features(vec![FinalizedFeatureKey::default()
                .with_name(StrBytes::from_static_str(METADATA_VERSION))
                .with_max_version_level(27)])
            .with_supported_features(vec![SupportedFeatureKey::default()
                .with_name(StrBytes::from_static_str(METADATA_VERSION))
                .with_max_version(31)]);
        assert_eq!(levels(&answer), broker(27, 31));
        let refused =
            UpdateFeaturesResponse::default().with_results(vec![UpdatableFeatureResult::default()
                .with_feature(StrBytes::from_static_str(METADATA_VERSION))
                .with_error_code(42)
                .with_error_message(Some(StrBytes::from_static_str("Invalid update version")))]);
        assert_eq!(
            refusal(&refused).unwrap(),
            "metadata.version: error 42: Invalid update version"
        );
        assert_eq!(refusal(&UpdateFeaturesResponse::default()), None);
    }
}
