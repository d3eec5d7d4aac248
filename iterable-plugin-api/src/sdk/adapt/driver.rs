//! Drivers and their connections.

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RStr, RString, RVec};

use crate::abi::RError;
use crate::abi::{
    Connection as AbiConnection, Connection_TO, ConnectionBox, DriverInfo, DriverProvider,
    DriverProvider_TO, DriverProviderBox, ROptions, RecordSinkBox, RecordSourceBox,
};
use crate::sdk::adapt::records::reader_source;
use crate::sdk::adapt::records::writer_sink;
use crate::sdk::error::Result;
use crate::sdk::guard::{Poison, catch, drop_guarded, guard};
use crate::sdk::options::Options;
use crate::sdk::spec::rstrings;
use crate::sdk::traits::Connection;
use crate::sdk::traits::Driver;

struct ConnectionAdapter {
    conn: Option<Box<dyn Connection>>,
    poison: Poison,
}

impl ConnectionAdapter {
    fn with<T>(&mut self, f: impl FnOnce(&mut dyn Connection) -> Result<T>) -> RResult<T, RError> {
        let conn = &mut self.conn;
        self.poison
            .run(|| match conn.as_mut() {
                Some(c) => f(c.as_mut()).map_err(RError::from),
                None => Err(RError::invalid_input("connection is closed")),
            })
            .into()
    }
}

impl AbiConnection for ConnectionAdapter {
    fn list_tables(&mut self) -> RResult<RVec<RString>, RError> {
        self.with(|c| Ok(rstrings(c.list_tables()?)))
    }
    fn read_table(
        &mut self,
        table: RStr<'_>,
        options: ROptions,
    ) -> RResult<RecordSourceBox, RError> {
        self.with(|c| {
            let opts = Options::from_roptions(&options);
            Ok(reader_source(c.read_table(table.as_str(), &opts)?))
        })
    }
    fn read_query(
        &mut self,
        query: RStr<'_>,
        options: ROptions,
    ) -> RResult<RecordSourceBox, RError> {
        self.with(|c| {
            let opts = Options::from_roptions(&options);
            Ok(reader_source(c.read_query(query.as_str(), &opts)?))
        })
    }
    fn write_table(
        &mut self,
        table: RStr<'_>,
        options: ROptions,
    ) -> RResult<RecordSinkBox, RError> {
        self.with(|c| {
            let opts = Options::from_roptions(&options);
            Ok(writer_sink(c.write_table(table.as_str(), &opts)?))
        })
    }
}

impl Drop for ConnectionAdapter {
    fn drop(&mut self) {
        drop_guarded(self.conn.take());
    }
}

struct DriverAdapter<D> {
    driver: D,
    info: DriverInfo,
}

impl<D: Driver> DriverProvider for DriverAdapter<D> {
    fn info(&self) -> DriverInfo {
        self.info.clone()
    }
    fn connect(&self, uri: RStr<'_>, options: ROptions) -> RResult<ConnectionBox, RError> {
        guard(|| {
            let opts = Options::from_roptions(&options);
            let conn = self.driver.connect(uri.as_str(), &opts)?;
            Ok(Connection_TO::from_value(
                ConnectionAdapter {
                    conn: Some(conn),
                    poison: Poison::default(),
                },
                TD_Opaque,
            ))
        })
        .into()
    }
}

/// Exposes a [`Driver`] as a wire provider.
pub fn driver_provider<D: Driver>(driver: D) -> Result<DriverProviderBox, RError> {
    let info = catch(|| driver.info())?.into_info();
    Ok(DriverProvider_TO::from_value(
        DriverAdapter { driver, info },
        TD_Opaque,
    ))
}
