//! The macro that turns one table of settings into everything a setting needs: the command
//! line (clap: flag, environment variable, help), the config file (serde: key, type), the
//! merge of those layers, and the resolved value (default and validation). A setting is
//! declared once, in [`super`]'s table.

/// Each row of the table:
///
/// ```text
/// /// Help text (also the config key's documentation).
/// #[arg(long, env = "KAFKUP_X")]      // the flag and variable; #[arg(skip)]: config file only
/// name: Input => Output = resolver;   // resolver: fn(&'static str, Option<Input>) -> Result<Output, SettingsError>
/// ```
///
/// generates `Layer` (every field `Option<Input>`: what one source said; clap parses flags and
/// environment into it, serde the config file) with [`Layer::over`], and `Settings` (every
/// field `Output`) with `Settings::from_layer`, which runs each row's resolver.
macro_rules! declare_settings {
    ($(
        $(#[$attr:meta])*
        $name:ident : $input:ty => $output:ty = $resolve:expr;
    )*) => {
        /// What one source says: flags and `KAFKUP_*` variables (clap merges those two), the
        /// config file, or an environment's record. `None`: this source says nothing.
        #[derive(Debug, Default, Clone, PartialEq, clap::Args, serde::Deserialize, serde::Serialize)]
        #[serde(deny_unknown_fields)]
        pub struct Layer {
            $(
                $(#[$attr])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $name: Option<$input>,
            )*
        }

        impl Layer {
            /// This layer over `lower`: wherever this one says nothing, `lower` is heard.
            pub fn over(self, lower: Layer) -> Layer {
                Layer { $( $name: self.$name.or(lower.$name), )* }
            }
        }

        /// Every setting, resolved: the first layer that said something, else the default;
        /// validated one by one (see [`Settings::resolve`] for the checks across settings).
        #[derive(Debug, Clone, PartialEq, serde::Serialize)]
        pub struct Settings {
            $( pub $name: $output, )*
        }

        impl Settings {
            fn from_layer(layer: Layer) -> Result<Settings, SettingsError> {
                Ok(Settings {
                    $( $name: ($resolve)(stringify!($name), layer.$name)?, )*
                })
            }
        }
    };
}

pub(crate) use declare_settings;
