//! Engines.

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RStr, RString, RVec, Tuple2};

use crate::abi::RError;
use crate::abi::{
    EngineInfo, EngineProvider, EngineProvider_TO, EngineProviderBox, ROptions, RecordSourceBox,
};
use crate::sdk::adapt::records::reader_source;
use crate::sdk::error::Result;
use crate::sdk::guard::{catch, guard};
use crate::sdk::options::Options;
use crate::sdk::traits::Engine;
use crate::sdk::traits::RowSource;

struct EngineAdapter<E> {
    engine: E,
    info: EngineInfo,
}

impl<E: Engine> EngineProvider for EngineAdapter<E> {
    fn info(&self) -> EngineInfo {
        self.info.clone()
    }
    fn execute(
        &self,
        query: RStr<'_>,
        inputs: RVec<Tuple2<RString, RecordSourceBox>>,
        options: ROptions,
    ) -> RResult<RecordSourceBox, RError> {
        guard(|| {
            let inputs = inputs
                .into_iter()
                .map(|Tuple2(name, src)| (name.into_string(), RowSource::new(src)))
                .collect();
            let opts = Options::from_roptions(&options);
            let reader = self.engine.execute(query.as_str(), inputs, &opts)?;
            Ok(reader_source(reader))
        })
        .into()
    }
}

/// Exposes an [`Engine`] as a wire provider.
pub fn engine_provider<E: Engine>(engine: E) -> Result<EngineProviderBox, RError> {
    let info = catch(|| engine.info())?.into_info();
    Ok(EngineProvider_TO::from_value(
        EngineAdapter { engine, info },
        TD_Opaque,
    ))
}
